//! The discrete-event engine. Each worker process has one event loop (a FIFO of CPU tasks),
//! a pool of connections and a result buffer; each connection has a database backend; loops
//! and backends share the host's cores (`cpu`); commits share the WAL writer (`wal`); claims
//! meet in the jobs table (`table`).
//!
//! A consumer's cycle, as the claims worker runs it:
//! 1. claim: take a connection; the loop sends the statement; half a round trip; the backend
//!    reads and locks rows (waiting behind other claims' row locks under optimistic-any),
//!    spends its CPU, commits (group commit) and releases the locks; half a round trip; the
//!    loop decodes the rows and the connection goes back to the pool;
//! 2. work: one loop task runs the batch's jobs (at the back of the loop's queue, or at once
//!    under `loopOrder: continuations-first`, as Node resumes an `await`);
//! 3. buffer the results; once `flushSize` are buffered the consumer flushes them and waits
//!    for that flush (one statement: complete + store results), else a timer flushes them
//!    `flushMs` after the first was buffered;
//! 4. after an empty claim: ask whether jobs are ready; claim again at once if so, else flush
//!    what is buffered and, while others still hold jobs, look again after `idleMs`.

use std::collections::VecDeque;

use crate::config::{LoopOrder, OptimisticSelect, SimConfig, Strategy};
use crate::cpu::Cpu;
use crate::draws::Draws;
use crate::due::{Due, DueQueue};
use crate::report::{Counters, SimReport, Utilisation, Waits, Window};
use crate::table::{Candidates, Outcome, Runs, Table};
use crate::wal::{Commit, Wal};

#[derive(Debug, Clone, Copy)]
enum Ev {
    /// A statement reaches its backend.
    Arrive(u32),
    /// A statement's reply reaches its worker.
    Reply(u32),
    /// The WAL flush under way ends (it took this long).
    WalFlushed(f64),
    FlushTimer(u32, u64),
    /// A consumer looks again after idling.
    Wake(u32),
    /// A consumer claims again after backing off from contention.
    BackedOff(u32),
}

/// Pending events: each one's time and tie-breaker in a queue of plain integers (`DueQueue`),
/// what it is in a slot of its own. The tie-breaker is the order events were scheduled in,
/// shifted up to leave room for the slot, so the queue orders them by time and then by that
/// order; its entries are half the size they would be carrying the event.
#[derive(Debug, Default)]
struct Events {
    queue: DueQueue,
    slots: Vec<Ev>,
    free: Vec<u32>,
    scheduled: u64,
}

/// Bits of an event's tie-breaker that name its slot (16M events pending at once; the rest
/// count 2^40 events scheduled).
const SLOT_BITS: u32 = 24;

impl Events {
    fn push(&mut self, at: f64, ev: Ev) {
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = ev;
                slot
            }
            None => {
                self.slots.push(ev);
                (self.slots.len() - 1) as u32
            }
        };
        self.scheduled += 1;
        assert!(
            slot < 1 << SLOT_BITS && self.scheduled < 1 << (64 - SLOT_BITS),
            "too many events for the event queue"
        );
        let tie = (self.scheduled << SLOT_BITS) | u64::from(slot);
        self.queue.push(Due::new(at, tie));
    }

    fn next_at(&self) -> Option<f64> {
        self.queue.first().map(Due::at)
    }

    fn pop(&mut self) -> Option<(f64, Ev)> {
        let due = self.queue.pop()?;
        let slot = (due.tie() & ((1 << SLOT_BITS) - 1)) as u32;
        self.free.push(slot);
        Some((due.at(), self.slots[slot as usize]))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpKind {
    /// The separate `SELECT` of ids (optimistic-any, team style).
    Select,
    Claim,
    /// A partitioned worker's second claim, across partitions.
    Steal,
    Backlog,
    Complete,
}

#[derive(Debug, Clone, Copy)]
enum TaskKind {
    Send(u32),
    Receive(u32),
    Work(u32, u64),
}

#[derive(Debug)]
struct Task {
    work: f64,
    kind: TaskKind,
    queued: f64,
}

/// One statement on one connection.
#[derive(Debug, Default)]
struct Op {
    kind: Option<OpKind>,
    worker: u32,
    /// The consumer waiting for it (a flush from the timer has none).
    consumer: Option<u32>,
    conn: u32,
    rows: u64,
    skipped: u64,
    dead: u64,
    /// Rows it locks to re-check and skip (optimistic-any; see `Outcome::rechecked`).
    rechecked: u64,
    /// Row-lock holders still to commit before this claim can go on.
    waits: u32,
    /// Claims waiting for this one to commit.
    waiters: Vec<u32>,
    /// The `Engine::stamp` at which it was last seen waiting for a given claim (`db_done`).
    waiting_stamp: u64,
    taken: Runs,
    /// When its owner asked for it (pool waits and flush times count from here).
    created: f64,
    wait_from: f64,
    cpu_done: f64,
}

#[derive(Debug, Default)]
struct Worker {
    tasks: VecDeque<Task>,
    /// While a finished task's consequences are handled under `continuations-first`: where the
    /// next continuation goes in `tasks`.
    continuing: Option<usize>,
    task_started: f64,
    loop_busy_ms: f64,
    free_conns: Vec<u32>,
    conn_waiters: VecDeque<u32>,
    in_use: u32,
    exhausted_since: f64,
    exhausted_ms: f64,
    buffer: u64,
    timer_armed: bool,
    timer_gen: u64,
    flushing: u32,
    flush_waiters: Vec<u32>,
    lane: u32,
    /// Work its background threads have yet to start (`workerBackgroundShare`).
    background_backlog: f64,
    background_running: bool,
}

#[derive(Debug, Default)]
struct Consumer {
    worker: u32,
    claim_started: f64,
    candidates: Candidates,
}

struct Engine<'a> {
    cfg: &'a SimConfig,
    now: f64,
    events: Events,
    cpu: Cpu,
    wal: Wal,
    table: Table,
    /// How every cost spreads around its mean (`costs.cv`), one factor per cost drawn.
    draws: Draws,
    workers: Vec<Worker>,
    consumers: Vec<Consumer>,
    ops: Vec<Op>,
    free_ops: Vec<u32>,
    /// Per connection: the op its backend is running.
    backend_op: Vec<u32>,
    completed: u64,
    alive: u32,
    end: f64,
    windows: Vec<Counters>,
    waits: Waits,
    holders_ms: f64,
    holders_at: f64,
    /// Consumers backing off after losing the head rows to another claimer.
    backing_off: u32,
    handled: u64,
    flushed: Vec<u32>,
    /// Marks, in `Op::waiting_stamp`, one pass of `db_done` over a claim's waiters.
    stamp: u64,
    /// Loops whose task under way takes no CPU (decoding an empty reply, say) and ended as it
    /// started: handled before the next event, without a trip through the CPU's queue.
    instant: VecDeque<u32>,
}

/// From this many jobs on, a second thread draws the costs' spread ahead of the engine (the same
/// numbers; see `Draws`): about an eighth of a large run's time, and not worth a thread below.
const DRAW_AHEAD_JOBS: u64 = 100_000;

/// Runs one simulation (the config is assumed valid; see `SimConfig::validate`).
pub fn run(cfg: &SimConfig) -> SimReport {
    run_drawing(cfg, cfg.jobs >= DRAW_AHEAD_JOBS)
}

/// `run`, drawing the costs' spread on a thread of its own or not.
fn run_drawing(cfg: &SimConfig, ahead: bool) -> SimReport {
    if cfg.cpu_growth.is_empty() {
        return Engine::new(cfg, ahead).run();
    }
    let at_scale = SimConfig {
        costs: cfg.costs_at_scale(),
        cpu_growth: Vec::new(),
        ..cfg.clone()
    };
    Engine::new(&at_scale, ahead).run()
}

impl<'a> Engine<'a> {
    fn new(cfg: &'a SimConfig, draw_ahead: bool) -> Self {
        let w = cfg.workers;
        let lanes = if cfg.strategy == Strategy::Partitioned {
            w
        } else {
            1
        };
        let workers = (0..w)
            .map(|i| Worker {
                free_conns: (0..cfg.pool_size)
                    .rev()
                    .map(|c| i * cfg.pool_size + c)
                    .collect(),
                lane: i % lanes,
                ..Worker::default()
            })
            .collect();
        let consumers = (0..w * cfg.consumers)
            .map(|c| Consumer {
                worker: c / cfg.consumers,
                ..Consumer::default()
            })
            .collect();
        Self {
            cfg,
            now: 0.0,
            events: Events::default(),
            // CPU entities: the loops 0..w, then a backend per connection, then a background
            // thread per worker (`background_entity`).
            cpu: Cpu::new(cfg.cores, cfg.cpu_slice_ms)
                .with_switch_cost(cfg.cpu_switch_ms, w..w + w * cfg.pool_size),
            wal: Wal::default(),
            table: Table::new(cfg.jobs, lanes),
            draws: Draws::new(cfg.seed, cfg.costs.cv, draw_ahead),
            workers,
            consumers,
            ops: Vec::new(),
            free_ops: Vec::new(),
            backend_op: vec![0; (w * cfg.pool_size) as usize],
            completed: 0,
            alive: w * cfg.consumers,
            end: 0.0,
            windows: Vec::new(),
            waits: Waits::default(),
            holders_ms: 0.0,
            holders_at: 0.0,
            backing_off: 0,
            handled: 0,
            flushed: Vec::new(),
            stamp: 0,
            instant: VecDeque::new(),
        }
    }

    fn run(mut self) -> SimReport {
        for c in 0..self.consumers.len() as u32 {
            self.start_claim(c);
        }
        loop {
            if let Some(w) = self.instant.pop_front() {
                self.loop_done(w);
                continue;
            }
            let next_event = self.events.next_at();
            let next_cpu = self.cpu.next_event();
            if next_event.is_none() && next_cpu.is_none() {
                break;
            }
            self.handled += 1;
            match (next_event, next_cpu) {
                (Some(e), Some(c)) if c < e => self.cpu_done(c),
                (None, Some(c)) => self.cpu_done(c),
                _ => {
                    let (at, ev) = self.events.pop().expect("peeked");
                    self.now = at;
                    match ev {
                        Ev::Arrive(op) => self.arrive(op),
                        Ev::Reply(op) => self.reply(op),
                        Ev::WalFlushed(took) => self.wal_flushed(took),
                        Ev::FlushTimer(w, gen) => self.flush_timer(w, gen),
                        Ev::Wake(c) => self.start_claim(c),
                        Ev::BackedOff(c) => {
                            self.holders_tick();
                            self.backing_off -= 1;
                            self.start_claim(c);
                        }
                    }
                }
            }
        }
        self.report()
    }

    // ---- plumbing -------------------------------------------------------------------------

    fn at(&mut self, delay: f64, ev: Ev) {
        self.events.push(self.now + delay, ev);
    }

    /// A cost drawn around its mean.
    fn draw(&mut self, mean: f64) -> f64 {
        if mean <= 0.0 {
            0.0
        } else {
            mean * self.draws.next()
        }
    }

    fn window(&mut self) -> &mut Counters {
        let i = (self.now / self.cfg.window_ms) as usize;
        if self.windows.len() <= i {
            self.windows.resize(i + 1, Counters::default());
        }
        &mut self.windows[i]
    }

    fn new_op(&mut self, kind: OpKind, worker: u32, consumer: Option<u32>, rows: u64) -> u32 {
        let id = match self.free_ops.pop() {
            Some(id) => id,
            None => {
                self.ops.push(Op::default());
                (self.ops.len() - 1) as u32
            }
        };
        let op = &mut self.ops[id as usize];
        op.kind = Some(kind);
        op.worker = worker;
        op.consumer = consumer;
        op.rows = rows;
        op.skipped = 0;
        op.dead = 0;
        op.rechecked = 0;
        op.waits = 0;
        op.waiters.clear();
        op.taken.clear();
        op.created = self.now;
        id
    }

    fn kind(&self, op: u32) -> OpKind {
        self.ops[op as usize].kind.expect("live op")
    }

    /// Time the queue's head was contended (claims holding rows, or claimers backing off from
    /// them), accounted before either changes.
    fn holders_tick(&mut self) {
        if self.table.holders() > 0 || self.backing_off > 0 {
            self.holders_ms += self.now - self.holders_at;
        }
        self.holders_at = self.now;
    }

    // ---- event loops -----------------------------------------------------------------------

    /// Queues `work` on worker `w`'s loop. Under `continuations-first`, what a finished task
    /// goes on to do (decoding a reply resumes the consumer that awaited it, which runs its jobs
    /// and sends its next statement) runs in the same turn: it goes to the front, after the
    /// turn's earlier continuations. Anything else (a reply arriving, a timer) waits at the back.
    /// `overhead` is the part of `work` that is the worker's own handling (not a job's work), of
    /// which `workerBackgroundShare` goes to its background threads instead of the loop.
    fn push_task(&mut self, w: u32, work: f64, overhead: f64, kind: TaskKind) {
        self.waits.worker_cpu_ms += work;
        let background = overhead * self.cfg.worker_background_share;
        let work = work - background;
        if background > 0.0 {
            self.background(w, background);
        }
        let now = self.now;
        let worker = &mut self.workers[w as usize];
        let task = Task {
            work,
            kind,
            queued: now,
        };
        if let Some(at) = worker.continuing.as_mut() {
            worker.tasks.insert(*at, task);
            *at += 1;
            return; // started when the turn ends (`loop_done`)
        }
        let idle = worker.tasks.is_empty();
        worker.tasks.push_back(task);
        if idle {
            self.start_task(w, work);
        }
    }

    /// Worker `w`'s loop starts the task at the front of its queue (`work` ms of CPU): on the
    /// host's cores, or, when it takes no time at all, as the next thing handled.
    fn start_task(&mut self, w: u32, work: f64) {
        self.workers[w as usize].task_started = self.now;
        if work == 0.0 && self.cpu.run_instantly(self.now, w) {
            self.instant.push_back(w);
        } else {
            self.cpu.start(self.now, w, work);
        }
    }

    fn cpu_done(&mut self, at: f64) {
        self.now = at;
        let Some(entity) = self.cpu.step(at) else {
            return; // a slice ended: the run queue turned
        };
        let loops = self.cfg.workers;
        let backgrounds = self.background_entity(0);
        if entity < loops {
            self.loop_done(entity);
        } else if entity < backgrounds {
            let op = self.backend_op[(entity - loops) as usize];
            self.backend_done(op);
        } else {
            self.background_done(entity - backgrounds);
        }
    }

    /// The CPU entity of worker `w`'s background threads: after the loops and the backends.
    fn background_entity(&self, w: u32) -> u32 {
        self.cfg.workers + self.backend_op.len() as u32 + w
    }

    /// Worker `w`'s background threads get `work` more to do: at once if they are idle, else
    /// after what they are doing (as one more stretch of CPU).
    fn background(&mut self, w: u32, work: f64) {
        let worker = &mut self.workers[w as usize];
        if worker.background_running {
            worker.background_backlog += work;
        } else {
            worker.background_running = true;
            let entity = self.background_entity(w);
            self.cpu.start(self.now, entity, work);
        }
    }

    fn background_done(&mut self, w: u32) {
        let worker = &mut self.workers[w as usize];
        worker.background_running = false;
        let backlog = std::mem::take(&mut worker.background_backlog);
        if backlog > 0.0 {
            self.background(w, backlog);
        }
    }

    fn loop_done(&mut self, w: u32) {
        let now = self.now;
        let worker = &mut self.workers[w as usize];
        let task = worker.tasks.pop_front().expect("a task ran");
        let ran = now - worker.task_started;
        worker.loop_busy_ms += ran;
        self.waits.loop_wait_ms += worker.task_started - task.queued;
        let continuations = self.cfg.loop_order == LoopOrder::ContinuationsFirst;
        if continuations {
            worker.continuing = Some(0);
        } else {
            self.start_next_task(w);
        }
        match task.kind {
            TaskKind::Send(op) => {
                let d = self.draw(self.cfg.costs.rtt_ms / 2.0);
                self.at(d, Ev::Arrive(op));
            }
            TaskKind::Receive(op) => self.received(op),
            TaskKind::Work(c, rows) => {
                self.window().work_ms += ran;
                self.after_work(c, rows);
            }
        }
        if continuations {
            self.workers[w as usize].continuing = None;
            self.start_next_task(w);
        }
    }

    /// Worker `w`'s loop takes the task at the front of its queue, if any.
    fn start_next_task(&mut self, w: u32) {
        if let Some(next) = self.workers[w as usize].tasks.front() {
            self.start_task(w, next.work);
        }
    }

    // ---- connections -------------------------------------------------------------------------

    fn request_conn(&mut self, op: u32) {
        let w = self.ops[op as usize].worker as usize;
        match self.workers[w].free_conns.pop() {
            Some(conn) => {
                let worker = &mut self.workers[w];
                worker.in_use += 1;
                if worker.in_use == self.cfg.pool_size {
                    worker.exhausted_since = self.now;
                }
                self.assign(op, conn);
            }
            None => self.workers[w].conn_waiters.push_back(op),
        }
    }

    fn assign(&mut self, op: u32, conn: u32) {
        let c = &self.cfg.costs;
        let o = &mut self.ops[op as usize];
        o.conn = conn;
        self.waits.pool_wait_ms += self.now - o.created;
        let mean = c.worker_statement_ms
            + if o.kind == Some(OpKind::Complete) {
                o.rows as f64 * c.worker_result_ms
            } else {
                0.0
            };
        let w = o.worker;
        let work = self.draw(mean);
        self.push_task(w, work, work, TaskKind::Send(op));
    }

    fn release_conn(&mut self, op: u32) {
        let (w, conn) = {
            let o = &self.ops[op as usize];
            (o.worker as usize, o.conn)
        };
        match self.workers[w].conn_waiters.pop_front() {
            Some(next) => self.assign(next, conn),
            None => {
                let worker = &mut self.workers[w];
                if worker.in_use == self.cfg.pool_size {
                    worker.exhausted_ms += self.now - worker.exhausted_since;
                }
                worker.in_use -= 1;
                worker.free_conns.push(conn);
            }
        }
    }

    // ---- the database ------------------------------------------------------------------------

    fn arrive(&mut self, op: u32) {
        let cfg = self.cfg;
        let batch = cfg.batch_size as u64;
        let kind = self.kind(op);
        let (w, consumer) = {
            let o = &self.ops[op as usize];
            (o.worker, o.consumer)
        };
        let outcome = match kind {
            OpKind::Select => {
                let c = consumer.expect("a consumer selects");
                let candidates = self.table.read_candidates(0, batch);
                let dead = candidates.dead as f64;
                self.consumers[c as usize].candidates = candidates;
                self.backend_cpu(
                    op,
                    cfg.costs.db_query_ms + dead * cfg.costs.db_dead_entry_ms,
                );
                return;
            }
            OpKind::Backlog => {
                let dead = self.table.dead_before_ready() as f64;
                self.backend_cpu(
                    op,
                    cfg.costs.db_query_ms + dead * cfg.costs.db_dead_entry_ms,
                );
                return;
            }
            OpKind::Complete => {
                let rows = self.ops[op as usize].rows as f64;
                self.backend_cpu(
                    op,
                    cfg.costs.db_complete_ms + rows * cfg.costs.db_complete_row_ms,
                );
                return;
            }
            OpKind::Claim | OpKind::Steal => {
                self.holders_tick();
                match (kind, cfg.strategy) {
                    (OpKind::Steal, _) => self.table.steal(op, batch),
                    (_, Strategy::SkipLocked) => self.table.skip_locked(op, 0, batch),
                    (_, Strategy::Partitioned) => {
                        let lane = self.workers[w as usize].lane;
                        self.table.skip_locked(op, lane, batch)
                    }
                    (_, Strategy::OptimisticAny) => {
                        let candidates = match cfg.optimistic_select {
                            OptimisticSelect::Subquery => self.table.read_candidates(0, batch),
                            OptimisticSelect::Separate => {
                                let c = consumer.expect("a consumer claims");
                                std::mem::take(&mut self.consumers[c as usize].candidates)
                            }
                        };
                        // A separate select paid for its scan; the update finds rows by id.
                        let dead = match cfg.optimistic_select {
                            OptimisticSelect::Subquery => candidates.dead,
                            OptimisticSelect::Separate => 0,
                        };
                        Outcome {
                            dead,
                            ..self.table.lock_candidates(op, &candidates)
                        }
                    }
                }
            }
        };
        let o = &mut self.ops[op as usize];
        o.rows = outcome.rows();
        o.skipped = outcome.skipped;
        o.dead = outcome.dead;
        o.rechecked = outcome.rechecked;
        o.taken = outcome.taken;
        o.waits = outcome.holders.len() as u32;
        o.wait_from = self.now;
        if outcome.holders.is_empty() {
            self.claim_cpu(op);
        } else {
            for h in outcome.holders {
                self.ops[h as usize].waiters.push(op);
            }
        }
    }

    fn claim_cpu(&mut self, op: u32) {
        let c = &self.cfg.costs;
        let o = &self.ops[op as usize];
        // A re-checked row is found, locked (a WAL record) and tested, as a claimed one is.
        let ms = c.db_claim_ms
            + (o.rows + o.rechecked) as f64 * c.db_claim_row_ms
            + o.skipped as f64 * c.db_skip_row_ms
            + o.dead as f64 * c.db_dead_entry_ms;
        self.backend_cpu(op, ms);
    }

    fn backend_cpu(&mut self, op: u32, mean: f64) {
        let work = self.draw(mean);
        self.waits.db_cpu_ms += work;
        let conn = self.ops[op as usize].conn;
        self.backend_op[conn as usize] = op;
        self.cpu.start(self.now, self.cfg.workers + conn, work);
    }

    fn backend_done(&mut self, op: u32) {
        let writes = {
            let o = &mut self.ops[op as usize];
            o.cpu_done = self.now;
            (o.rows > 0 || o.rechecked > 0)
                && matches!(
                    o.kind,
                    Some(OpKind::Claim | OpKind::Steal | OpKind::Complete)
                )
        };
        if !writes {
            return self.db_done(op);
        }
        if let Commit::StartFlush = self.wal.commit(op) {
            let took = self.draw(self.cfg.costs.commit_ms);
            self.at(took, Ev::WalFlushed(took));
        }
    }

    fn wal_flushed(&mut self, took: f64) {
        let mut done = std::mem::take(&mut self.flushed);
        if self.wal.flushed(took, &mut done) {
            let next = self.draw(self.cfg.costs.commit_ms);
            self.at(next, Ev::WalFlushed(next));
        }
        for &op in &done {
            self.waits.commit_wait_ms += self.now - self.ops[op as usize].cpu_done;
            self.db_done(op);
        }
        self.flushed = done;
    }

    /// Committed (or nothing to commit): row locks go, waiters go on, the reply travels back.
    fn db_done(&mut self, op: u32) {
        if !self.ops[op as usize].taken.is_empty() {
            self.holders_tick();
            self.table.release(&self.ops[op as usize].taken);
        }
        // The first claim waiting goes on: it re-checks the rows this one held and locks their
        // newest versions. The others re-check the same rows, so each waits for the commit of
        // the one before it (optimistic-any's waiters form a chain, not a herd).
        let waiters = std::mem::take(&mut self.ops[op as usize].waiters);
        if let Some((&next, rest)) = waiters.split_first() {
            // Mark who already waits for `next`: one pass, not a search per waiter (a herd of
            // 256 claimers behind one holder made this quadratic).
            self.stamp += 1;
            for i in 0..self.ops[next as usize].waiters.len() {
                let w = self.ops[next as usize].waiters[i];
                self.ops[w as usize].waiting_stamp = self.stamp;
            }
            for &w in rest {
                if self.ops[w as usize].waiting_stamp == self.stamp {
                    // Already waiting for `next` (for rows it took): that wait covers this one.
                    self.ops[w as usize].waits -= 1;
                } else {
                    self.ops[w as usize].waiting_stamp = self.stamp;
                    self.ops[next as usize].waiters.push(w);
                }
            }
            let o = &mut self.ops[next as usize];
            o.waits -= 1;
            if o.waits == 0 {
                self.waits.lock_wait_ms += self.now - o.wait_from;
                self.claim_cpu(next);
            }
        }
        self.ops[op as usize].waiters = waiters;
        let d = self.draw(self.cfg.costs.rtt_ms / 2.0);
        self.at(d, Ev::Reply(op));
    }

    fn reply(&mut self, op: u32) {
        let o = &self.ops[op as usize];
        let mean = match o.kind {
            Some(OpKind::Claim | OpKind::Steal) => o.rows as f64 * self.cfg.costs.worker_row_ms,
            _ => 0.0,
        };
        let w = o.worker;
        let work = self.draw(mean);
        self.push_task(w, work, work, TaskKind::Receive(op));
    }

    // ---- consumers ---------------------------------------------------------------------------

    fn received(&mut self, op: u32) {
        self.release_conn(op);
        let kind = self.kind(op);
        let (w, consumer, rows, started) = {
            let o = &self.ops[op as usize];
            (o.worker, o.consumer, o.rows, o.created)
        };
        self.ops[op as usize].kind = None;
        self.free_ops.push(op);
        match kind {
            OpKind::Select => {
                let c = consumer.expect("a consumer selects");
                let next = self.new_op(OpKind::Claim, w, Some(c), 0);
                self.request_conn(next);
            }
            OpKind::Claim if rows == 0 && self.cfg.strategy == Strategy::Partitioned => {
                let c = consumer.expect("a consumer claims");
                let next = self.new_op(OpKind::Steal, w, Some(c), 0);
                self.request_conn(next);
            }
            OpKind::Claim | OpKind::Steal => {
                self.claimed(consumer.expect("a consumer claims"), rows);
            }
            OpKind::Backlog => self.decide(consumer.expect("a consumer asks")),
            OpKind::Complete => self.flushed(w, consumer, rows, started),
        }
    }

    fn start_claim(&mut self, c: u32) {
        let w = self.consumers[c as usize].worker;
        self.consumers[c as usize].claim_started = self.now;
        let kind = if self.cfg.strategy == Strategy::OptimisticAny
            && self.cfg.optimistic_select == OptimisticSelect::Separate
        {
            OpKind::Select
        } else {
            OpKind::Claim
        };
        let op = self.new_op(kind, w, Some(c), 0);
        self.request_conn(op);
    }

    fn claimed(&mut self, c: u32, rows: u64) {
        let batch = self.cfg.batch_size as u64;
        let took = self.now - self.consumers[c as usize].claim_started;
        let win = self.window();
        win.claim_batches += 1;
        win.claim_ms += took;
        win.claimed_jobs += rows;
        win.partial_batches += u64::from(rows > 0 && rows < batch);
        win.empty_claims += u64::from(rows == 0);
        if rows == 0 {
            if self.cfg.check_after_empty {
                let w = self.consumers[c as usize].worker;
                let op = self.new_op(OpKind::Backlog, w, Some(c), 0);
                self.request_conn(op);
            } else {
                self.decide(c);
            }
            return;
        }
        let w = self.consumers[c as usize].worker;
        let (job, handling) = (self.cfg.work_ms, self.cfg.costs.worker_job_ms);
        let work = self.draw(rows as f64 * (job + handling));
        let overhead = if handling > 0.0 {
            work * handling / (job + handling)
        } else {
            0.0
        };
        self.push_task(w, work, overhead, TaskKind::Work(c, rows));
    }

    fn after_work(&mut self, c: u32, rows: u64) {
        let w = self.consumers[c as usize].worker;
        let worker = &mut self.workers[w as usize];
        worker.buffer += rows;
        if worker.buffer >= self.cfg.flush_size as u64 {
            self.start_flush(w, Some(c));
            return;
        }
        if !worker.timer_armed {
            worker.timer_armed = true;
            worker.timer_gen += 1;
            let gen = worker.timer_gen;
            self.at(self.cfg.flush_ms, Ev::FlushTimer(w, gen));
        }
        self.start_claim(c);
    }

    /// After an empty claim: claim again while jobs are ready (after the back-off), else settle.
    fn decide(&mut self, c: u32) {
        if self.table.ready() {
            let backoff = self.cfg.empty_backoff_ms;
            if backoff > 0.0 {
                self.holders_tick();
                self.backing_off += 1;
                return self.at(backoff, Ev::BackedOff(c));
            }
            return self.start_claim(c);
        }
        let w = self.consumers[c as usize].worker;
        if self.workers[w as usize].buffer > 0 {
            self.start_flush(w, None);
        }
        if self.workers[w as usize].flushing > 0 {
            self.workers[w as usize].flush_waiters.push(c);
        } else {
            self.settled(c);
        }
    }

    /// Nothing ready and nothing of ours unflushed: wait while others still hold jobs.
    fn settled(&mut self, c: u32) {
        if self.table.ready() {
            self.start_claim(c);
        } else if self.completed < self.cfg.jobs {
            self.at(self.cfg.idle_ms, Ev::Wake(c));
        } else {
            self.alive -= 1;
            if self.alive == 0 {
                self.end = self.now;
            }
        }
    }

    // ---- result flushes ----------------------------------------------------------------------

    fn flush_timer(&mut self, w: u32, gen: u64) {
        let worker = &mut self.workers[w as usize];
        if worker.timer_armed && worker.timer_gen == gen {
            worker.timer_armed = false;
            if worker.buffer > 0 {
                self.start_flush(w, None);
            }
        }
    }

    fn start_flush(&mut self, w: u32, awaited_by: Option<u32>) {
        let worker = &mut self.workers[w as usize];
        let rows = std::mem::take(&mut worker.buffer);
        worker.timer_armed = false;
        worker.timer_gen += 1;
        worker.flushing += 1;
        let op = self.new_op(OpKind::Complete, w, awaited_by, rows);
        self.request_conn(op);
    }

    fn flushed(&mut self, w: u32, awaited_by: Option<u32>, rows: u64, started: f64) {
        self.completed += rows;
        let took = self.now - started;
        let win = self.window();
        win.persist_flushes += 1;
        win.persist_ms += took;
        win.completed += rows;
        let worker = &mut self.workers[w as usize];
        worker.flushing -= 1;
        let settled = if worker.flushing == 0 {
            std::mem::take(&mut worker.flush_waiters)
        } else {
            Vec::new()
        };
        if let Some(c) = awaited_by {
            self.start_claim(c);
        }
        for c in settled {
            self.settled(c);
        }
    }

    // ---- the report ----------------------------------------------------------------------------

    fn report(mut self) -> SimReport {
        self.holders_tick();
        let (loops_switched, backends_switched) = self.cpu.switched_ms();
        self.waits.worker_cpu_ms += loops_switched;
        self.waits.db_cpu_ms += backends_switched;
        let run_ms = self.end.max(f64::MIN_POSITIVE);
        let cfg = self.cfg;
        let loops: Vec<f64> = self
            .workers
            .iter()
            .map(|w| w.loop_busy_ms / run_ms)
            .collect();
        let pool = self
            .workers
            .iter()
            .map(|w| w.exhausted_ms / run_ms)
            .fold(0.0, f64::max);
        let utilisation = Utilisation {
            cpu: self.cpu.busy_core_ms / (cfg.cores * run_ms),
            worker_loop: loops.iter().sum::<f64>() / loops.len() as f64,
            worker_loop_max: loops.iter().copied().fold(0.0, f64::max),
            commit: self.wal.busy_ms / run_ms,
            row_locks: if cfg.strategy == Strategy::OptimisticAny {
                self.holders_ms / run_ms
            } else {
                0.0
            },
            pool,
        };
        let mut totals = Counters::default();
        for w in &self.windows {
            totals.add(w);
        }
        let elapsed_ms = cfg.setup_ms + self.end;
        SimReport {
            elapsed_ms,
            run_ms: self.end,
            throughput: self.completed as f64 / (elapsed_ms / 1000.0),
            jobs: cfg.jobs,
            completed: self.completed,
            windows: self
                .windows
                .into_iter()
                .enumerate()
                .map(|(i, counters)| Window {
                    index: i as u64,
                    counters,
                })
                .collect(),
            totals,
            waits: self.waits,
            bottleneck: utilisation.bottleneck().to_string(),
            utilisation,
            events: self.handled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_come_out_by_time_then_in_the_order_they_were_scheduled() {
        let mut events = Events::default();
        events.push(2.0, Ev::Wake(1));
        events.push(1.0, Ev::Wake(2));
        events.push(2.0, Ev::Wake(3));
        let (at, first) = events.pop().expect("three pending");
        assert_eq!(at, 1.0);
        assert!(matches!(first, Ev::Wake(2)));
        // A freed slot is taken again; the new event still goes after the earlier one at 2.0.
        events.push(2.0, Ev::Wake(4));
        assert_eq!(events.slots.len(), 3);
        let order: Vec<u32> = std::iter::from_fn(|| events.pop())
            .map(|(_, ev)| match ev {
                Ev::Wake(c) => c,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(order, vec![1, 3, 4]);
        assert_eq!(events.next_at(), None);
    }

    #[test]
    fn drawing_the_spread_ahead_on_a_thread_changes_no_result() {
        for strategy in ["optimistic-any", "skip-locked"] {
            let cfg = SimConfig::from_json(&format!(
                r#"{{"jobs":20000,"workers":3,"strategy":"{strategy}","seed":9}}"#
            ))
            .expect("valid");
            let inline = serde_json::to_string(&run_drawing(&cfg, false)).expect("json");
            let ahead = serde_json::to_string(&run_drawing(&cfg, true)).expect("json");
            assert_eq!(inline, ahead, "{strategy}");
        }
    }
}
