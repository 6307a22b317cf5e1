//! The simulator's contracts: determinism, conservation of jobs, closed-form queueing results,
//! the contention it exists to show, the team's measurements, and coded config errors.

use claim_sim::preset::{seed_phase3, seed_phase3_report, SEED_PHASE3_MEASURED};
use claim_sim::queueing::mva_throughput;
use claim_sim::{simulate, Costs, SimConfig, Strategy};

fn config(json: &str) -> SimConfig {
    SimConfig::from_json(json).unwrap()
}

fn zero_costs() -> Costs {
    Costs {
        worker_statement_ms: 0.0,
        worker_row_ms: 0.0,
        worker_job_ms: 0.0,
        worker_result_ms: 0.0,
        db_claim_ms: 0.0,
        db_claim_row_ms: 0.0,
        db_skip_row_ms: 0.0,
        db_dead_entry_ms: 0.0,
        db_complete_ms: 0.0,
        db_complete_row_ms: 0.0,
        db_query_ms: 0.0,
        commit_ms: 0.0,
        rtt_ms: 0.0,
        cv: 0.0,
    }
}

#[test]
fn the_same_seed_gives_the_same_run_and_another_seed_another() {
    let c = config(r#"{"jobs": 20000, "workers": 3, "strategy": "optimistic-any"}"#);
    let a = serde_json::to_string(&simulate(&c).unwrap()).unwrap();
    let b = serde_json::to_string(&simulate(&c).unwrap()).unwrap();
    assert_eq!(a, b);
    let other = SimConfig { seed: 2, ..c };
    assert_ne!(
        a,
        serde_json::to_string(&simulate(&other).unwrap()).unwrap()
    );
}

#[test]
fn every_job_is_claimed_once_and_completed_once() {
    for strategy in ["optimistic-any", "skip-locked", "partitioned"] {
        for select in ["subquery", "separate"] {
            for (workers, slice) in [(1, 0.0), (3, 0.0), (8, 0.0), (3, 4.0), (8, 1.0)] {
                let c = config(&format!(
                    r#"{{"jobs": 7919, "workers": {workers}, "batchSize": 13, "flushSize": 50, "strategy": "{strategy}", "optimisticSelect": "{select}", "poolSize": 2, "cpuSliceMs": {slice}}}"#
                ));
                let r = simulate(&c).unwrap();
                let what = format!("{strategy}/{select}/{workers}/slice {slice}");
                assert_eq!(r.completed, 7919, "{what}");
                assert_eq!(r.totals.claimed_jobs, 7919, "{what}");
                assert_eq!(r.totals.completed, 7919, "{what}");
                let windows: u64 = r.windows.iter().map(|w| w.counters.completed).sum();
                assert_eq!(windows, 7919, "{what}");
                assert!(r.totals.claim_batches >= 7919 / 13, "{what}");
                assert!(r.elapsed_ms > 0.0 && r.throughput > 0.0, "{what}");
            }
        }
    }
}

#[test]
fn one_consumer_with_fixed_costs_takes_exactly_the_sum_of_its_steps() {
    let costs = Costs {
        worker_statement_ms: 0.1,
        worker_row_ms: 0.01,
        worker_job_ms: 0.02,
        worker_result_ms: 0.005,
        db_claim_ms: 0.3,
        db_claim_row_ms: 0.03,
        db_complete_ms: 0.2,
        db_complete_row_ms: 0.04,
        db_query_ms: 0.07,
        commit_ms: 1.0,
        rtt_ms: 0.2,
        ..zero_costs()
    };
    let c = SimConfig {
        jobs: 1000,
        consumers: 1,
        batch_size: 10,
        flush_size: 10,
        work_ms: 0.5,
        cores: 1.0,
        costs: costs.clone(),
        ..SimConfig::default()
    };
    let r = simulate(&c).unwrap();
    let b = 10.0;
    let claim = costs.worker_statement_ms
        + costs.rtt_ms
        + costs.db_claim_ms
        + b * costs.db_claim_row_ms
        + costs.commit_ms
        + b * costs.worker_row_ms;
    let work = b * (c.work_ms + costs.worker_job_ms);
    let flush = costs.worker_statement_ms
        + b * costs.worker_result_ms
        + costs.rtt_ms
        + costs.db_complete_ms
        + b * costs.db_complete_row_ms
        + costs.commit_ms;
    // The end: one empty claim (nothing to commit), then the backlog probe.
    let tail =
        2.0 * (costs.worker_statement_ms + costs.rtt_ms) + costs.db_claim_ms + costs.db_query_ms;
    let expected = 100.0 * (claim + work + flush) + tail;
    assert!(
        (r.elapsed_ms - expected).abs() < 1e-6,
        "{} vs {expected}",
        r.elapsed_ms
    );
    assert!(
        (r.totals.claim_ms
            - 100.0 * claim
            - (tail - costs.worker_statement_ms - costs.rtt_ms - costs.db_query_ms))
            .abs()
            < 1e-6
    );
    assert_eq!(
        (
            r.totals.claim_batches,
            r.totals.empty_claims,
            r.totals.persist_flushes
        ),
        (101, 1, 100)
    );
}

#[test]
fn each_scan_passes_the_dead_entries_of_every_job_claimed_before_it() {
    // One consumer, only the dead-entry cost: claim k passes the k·B jobs claimed before it;
    // the empty claim at the end and the backlog probe after it pass all of them.
    let c = SimConfig {
        jobs: 1000,
        consumers: 1,
        batch_size: 10,
        flush_size: 10,
        costs: Costs {
            db_dead_entry_ms: 0.001,
            ..zero_costs()
        },
        ..SimConfig::default()
    };
    let r = simulate(&c).unwrap();
    let claims = 100.0;
    let expected = 0.001 * (10.0 * claims * (claims - 1.0) / 2.0 + 1000.0 + 1000.0);
    assert!(
        (r.waits.db_cpu_ms - expected).abs() < 1e-6,
        "{} vs {expected}",
        r.waits.db_cpu_ms
    );
    // The cost grows with the queue: twice the jobs, about four times the dead entries passed.
    let twice = simulate(&SimConfig { jobs: 2000, ..c }).unwrap();
    let ratio = twice.waits.db_cpu_ms / r.waits.db_cpu_ms;
    assert!((3.9..4.1).contains(&ratio), "{ratio}");
}

#[test]
fn calibration_simulating_fewer_jobs_charges_each_dead_entry_more() {
    use claim_sim::calibrate::observe;
    let with = |dead: f64| SimConfig {
        jobs: 20_000,
        workers: 2,
        batch_size: 20,
        costs: Costs {
            db_dead_entry_ms: dead,
            cv: 0.0,
            ..Costs::default()
        },
        ..SimConfig::default()
    };
    // What the dead entries add to the database CPU per job, simulated with `max_jobs` jobs.
    let added = |max_jobs: u64| {
        observe(&with(0.0002), max_jobs).db_cpu_ms_per_job.unwrap()
            - observe(&with(0.0), max_jobs).db_cpu_ms_per_job.unwrap()
    };
    let (full, scaled) = (added(20_000), added(5_000));
    assert!(full > 0.05, "{full}");
    assert!((scaled / full - 1.0).abs() < 0.1, "{scaled} vs {full}");
    // Without the correction a quarter of the jobs would pass a quarter of the dead entries.
    let short = SimConfig {
        jobs: 5_000,
        ..with(0.0002)
    };
    let plain = simulate(&short).unwrap().waits.db_cpu_ms / 5_000.0
        - simulate(&SimConfig {
            jobs: 5_000,
            ..with(0.0)
        })
        .unwrap()
        .waits
        .db_cpu_ms
            / 5_000.0;
    assert!(plain < 0.4 * full, "{plain} vs {full}");
}

#[test]
fn under_continuations_first_a_resumed_consumer_works_at_once_and_its_claim_waits_instead() {
    // One worker's loop is the bottleneck: per batch it spends 0.1 ms sending the claim, 0.1 ms
    // decoding 10 rows and 1 ms on the jobs, and four consumers take turns, so a consumer's
    // cycle is 4 × 1.2 ms in either order and so is throughput.
    let run = |order: &str| {
        simulate(&config(&format!(
            r#"{{"jobs": 10000, "workers": 1, "consumers": 4, "batchSize": 10, "flushSize": 1000,
                "workMs": 0.1, "cores": 4, "cpuSliceMs": 0, "loopOrder": "{order}",
                "costs": {{"workerStatementMs": 0.1, "workerRowMs": 0.01, "workerJobMs": 0,
                "workerResultMs": 0, "dbClaimMs": 0.05, "dbClaimRowMs": 0, "dbCompleteMs": 0.05,
                "dbCompleteRowMs": 0, "commitMs": 0.05, "rttMs": 0.02, "cv": 0}}}}"#
        )))
        .unwrap()
    };
    let (fifo, first) = (run("fifo"), run("continuations-first"));
    assert_eq!(fifo.throughput, first.throughput);
    assert!((first.throughput - 10.0 / 1.2 * 1000.0).abs() < 0.01 * first.throughput);
    let claim_ms = |r: &claim_sim::SimReport| r.totals.claim_ms / r.totals.claim_batches as f64;
    // Resumed at once, a consumer runs its jobs and sends its next claim without waiting; the
    // wait for the others' turns moves into its claim: the whole cycle but its own jobs.
    assert!(
        (claim_ms(&first) - (4.0 * 1.2 - 1.0)).abs() < 0.1,
        "{}",
        claim_ms(&first)
    );
    // In FIFO order part of that wait falls before its jobs instead.
    assert!(
        claim_ms(&fifo) < claim_ms(&first) - 0.5,
        "{}",
        claim_ms(&fifo)
    );
    assert_eq!(
        SimConfig::from_json(r#"{"loopOrder": "lifo"}"#)
            .unwrap_err()
            .code(),
        "ERR_CLAIMS_CONFIG"
    );
}

#[test]
fn consumers_sharing_one_core_match_mean_value_analysis() {
    // A closed network: N consumers alternate between the database backend (processor
    // sharing on one core, exponential demand D) and a delay (the round trip, mean Z); every
    // other cost is zero. MVA gives the exact throughput for any service distribution.
    let (d, z) = (1.0, 2.0);
    for n in [1u32, 2, 4, 8] {
        let c = SimConfig {
            jobs: 200_000,
            consumers: n,
            pool_size: n,
            batch_size: 1,
            flush_size: 1_000_000,
            flush_ms: 1e6,
            cores: 1.0,
            costs: Costs {
                db_claim_ms: d,
                rtt_ms: z,
                cv: 1.0,
                ..zero_costs()
            },
            ..SimConfig::default()
        };
        let r = simulate(&c).unwrap();
        let simulated = r.totals.claim_batches as f64 / r.run_ms;
        let exact = mva_throughput(n, d, z);
        assert!(
            (simulated / exact - 1.0).abs() < 0.02,
            "n {n}: simulated {simulated}, MVA {exact}"
        );
        // Utilisation of the one core is throughput × demand (utilisation law).
        assert!(
            (r.utilisation.cpu - exact * d).abs() < 0.02,
            "n {n}: {:?}",
            r.utilisation
        );
    }
}

#[test]
fn group_commit_lets_many_commits_share_one_flush() {
    let c = config(
        r#"{"jobs": 20000, "consumers": 32, "poolSize": 32, "costs": {"commitMs": 5, "cv": 0}}"#,
    );
    let r = simulate(&c).unwrap();
    // One commit per flush would cap claims at 200/s; they share flushes and go well past it.
    let claims_per_s = r.totals.claim_batches as f64 / (r.run_ms / 1000.0);
    assert!(claims_per_s > 1000.0, "{claims_per_s}");
    assert!(r.utilisation.commit > 0.9, "{:?}", r.utilisation);
}

#[test]
fn optimistic_claimers_collide_and_skip_locked_ones_do_not() {
    let run = |strategy: &str| {
        simulate(&config(&format!(
            r#"{{"jobs": 30000, "workers": 3, "strategy": "{strategy}"}}"#
        )))
        .unwrap()
    };
    let (optimistic, skip) = (run("optimistic-any"), run("skip-locked"));
    assert!(
        optimistic.totals.empty_claims > 1000,
        "{:?}",
        optimistic.totals
    );
    assert!(optimistic.waits.lock_wait_ms > 0.0);
    assert!(
        optimistic.utilisation.row_locks > 0.5,
        "{:?}",
        optimistic.utilisation
    );
    // Skip-locked claimers come back empty only at the very end.
    assert!(skip.totals.empty_claims <= 3 * 4 * 3, "{:?}", skip.totals);
    assert_eq!(skip.waits.lock_wait_ms, 0.0);
    assert!(skip.throughput > 2.0 * optimistic.throughput);
}

#[test]
fn optimistic_claimers_that_ran_into_a_claim_lock_its_rows_then_commit_one_after_another() {
    // Ten jobs, one batch; k consumers claim at once, and only commits (10 ms) and the jobs'
    // work (100 ms each, on cores to spare) take time. The first takes the ten rows; each of
    // the others read the same ids, waits, then locks the rows' newest versions to re-check
    // them (as PostgreSQL's update does), so it commits too, and the next waits for that
    // commit: waiter i waits i commits. The results are flushed a second later, alone.
    for k in 2..=4u32 {
        let c = SimConfig {
            jobs: 10,
            consumers: k,
            batch_size: 10,
            strategy: Strategy::OptimisticAny,
            work_ms: 100.0,
            flush_size: 10,
            flush_ms: 1000.0,
            idle_ms: 5000.0,
            cores: 8.0,
            setup_ms: 0.0,
            costs: Costs {
                commit_ms: 10.0,
                ..zero_costs()
            },
            ..SimConfig::default()
        };
        let r = simulate(&c).unwrap();
        // And the first consumer's last claim, on a drained queue, which locks nothing.
        assert_eq!(
            (r.totals.claim_batches, r.totals.empty_claims),
            (u64::from(k + 1), u64::from(k))
        );
        let lock_wait = 10.0 * f64::from(k * (k - 1) / 2);
        assert!(
            (r.waits.lock_wait_ms - lock_wait).abs() < 1e-6,
            "{k} consumers: {} vs {lock_wait}",
            r.waits.lock_wait_ms
        );
        // k claims and the completion, each flushing alone.
        assert!(
            (r.waits.commit_wait_ms - 10.0 * f64::from(k + 1)).abs() < 1e-6,
            "{k} consumers: {}",
            r.waits.commit_wait_ms
        );
    }
}

#[test]
fn time_slices_shorten_the_collision_window_of_optimistic_claims() {
    // Eight workers on two cores. Under processor sharing every claim's CPU is stretched over
    // all runnable processes, so its row locks are held long and others run into them; in
    // 4 ms slices a claim's few hundred microseconds run uninterrupted. (Those who ran into
    // them then wait for each other's commits in turn, which slices do not shorten.)
    let run = |strategy: &str, slice: f64| {
        simulate(&config(&format!(
            r#"{{"jobs": 20000, "workers": 8, "batchSize": 10, "strategy": "{strategy}", "cpuSliceMs": {slice}}}"#
        )))
        .unwrap()
    };
    let (shared, sliced) = (run("optimistic-any", 0.0), run("optimistic-any", 4.0));
    assert!(
        sliced.totals.empty_claims * 4 < shared.totals.empty_claims * 3,
        "{:?} vs {:?}",
        sliced.totals,
        shared.totals
    );
    assert!(sliced.waits.lock_wait_ms < shared.waits.lock_wait_ms);
    let optimistic_gain = sliced.throughput / shared.throughput;
    // Skip-locked claims never wait for locks: slices move their throughput far less.
    let (shared, sliced) = (run("skip-locked", 0.0), run("skip-locked", 4.0));
    let skip_gain = sliced.throughput / shared.throughput;
    assert!(
        optimistic_gain > 1.25 && optimistic_gain > skip_gain + 0.15,
        "optimistic ×{optimistic_gain}, skip-locked ×{skip_gain}"
    );
}

#[test]
fn partitioned_workers_keep_to_their_partitions_until_they_run_dry() {
    let c = config(
        r#"{"jobs": 30000, "workers": 4, "strategy": "partitioned", "costs": {"dbSkipRowMs": 0.05}}"#,
    );
    let skip = SimConfig {
        strategy: Strategy::SkipLocked,
        ..c.clone()
    };
    let (p, s) = (simulate(&c).unwrap(), simulate(&skip).unwrap());
    // Each partition's scan passes only its own worker's locked rows, so it is cheaper.
    assert!(
        p.waits.db_cpu_ms < s.waits.db_cpu_ms,
        "{} vs {}",
        p.waits.db_cpu_ms,
        s.waits.db_cpu_ms
    );
}

#[test]
fn the_bottleneck_is_the_resource_each_setup_saturates() {
    for (json, bottleneck) in [
        // Eight workers with work on one core.
        (
            r#"{"jobs": 20000, "workers": 8, "cores": 1, "workMs": 0.2}"#,
            "cpu",
        ),
        // One worker's event loop with cores to spare.
        (
            r#"{"jobs": 20000, "workers": 1, "cores": 8, "workMs": 1}"#,
            "worker-loop",
        ),
        // One consumer waiting on long round trips.
        (
            r#"{"jobs": 2000, "consumers": 1, "costs": {"rttMs": 20}}"#,
            "latency",
        ),
        // Sixteen consumers sharing one connection.
        (
            r#"{"jobs": 5000, "consumers": 16, "poolSize": 1, "cores": 8}"#,
            "pool",
        ),
    ] {
        let r = simulate(&config(json)).unwrap();
        assert_eq!(r.bottleneck, bottleneck, "{json}: {:?}", r.utilisation);
    }
}

#[test]
fn the_team_preset_reproduces_what_they_measured() {
    for (workers, jobs, seconds) in SEED_PHASE3_MEASURED {
        // With its own seed and with each of the seeds its costs were picked over.
        let preset = seed_phase3(workers, jobs).unwrap();
        for seed in [preset.seed].into_iter().chain(1..=7) {
            let r = simulate(&SimConfig {
                seed,
                ..preset.clone()
            })
            .unwrap();
            let error = r.elapsed_ms / 1000.0 / seconds - 1.0;
            assert!(
                error.abs() <= 0.05,
                "{workers} workers, {jobs} runs, seed {seed}: {:.2} s vs {seconds} s",
                r.elapsed_ms / 1000.0
            );
        }
        let r = simulate(&preset).unwrap();
        if workers == 1 {
            // About 1000 claim batches per 10 s.
            let per_10s = r.totals.claim_batches as f64 / r.run_ms * 10_000.0;
            assert!((per_10s / 1000.0 - 1.0).abs() < 0.15, "{per_10s}");
        }
    }
    let report = seed_phase3_report(20_000).unwrap();
    let speedup = |name: &str| report.iter().find(|p| p.name == name).unwrap().speedup;
    for name in [
        "as measured",
        "batch 20",
        "batch 50",
        "pool 100",
        "persist 200",
        "flush 1000 ms",
    ] {
        assert!(speedup(name) < 1.1, "{name}: {}", speedup(name));
    }
    assert!(speedup("skip-locked") >= 1.5 && speedup("partitioned") >= 1.5);
}

#[test]
fn invalid_configs_are_refused_with_a_stable_code() {
    for (json, says) in [
        (r#"{"workers": 0}"#, "workers"),
        (r#"{"jobs": -1}"#, "invalid simulation config"),
        (r#"{"strategy": "fastest"}"#, "unknown variant"),
        (r#"{"batchSize": 2.5}"#, "invalid simulation config"),
        (r#"{"cores": 0}"#, "cores"),
        (r#"{"cpuSwitchMs": -1}"#, "cpuSwitchMs"),
        (r#"{"cpuSwitchMs": 2000}"#, "cpuSwitchMs"),
        (r#"{"cpuSliceMs": -4}"#, "cpuSliceMs"),
        (
            r#"{"workerBackgroundShare": 0.95}"#,
            "workerBackgroundShare",
        ),
        (
            r#"{"workerBackgroundShare": -0.1}"#,
            "workerBackgroundShare",
        ),
        (
            r#"{"cpuGrowth": [{"workers": 4, "worker": 1, "db": 1}, {"workers": 2, "worker": 1, "db": 1}]}"#,
            "increasing order",
        ),
        (
            r#"{"cpuGrowth": [{"workers": 1, "worker": 0, "db": 1}]}"#,
            "cpuGrowth[0].worker",
        ),
        (
            r#"{"cpuGrowth": [{"workers": 1, "wrker": 1, "db": 1}]}"#,
            "unknown field",
        ),
        (r#"{"costs": {"commitMs": -1}}"#, "costs.commitMs"),
        (r#"{"costs": {"cv": 9}}"#, "costs.cv"),
        (r#"{"flushMs": "soon"}"#, "invalid simulation config"),
        (r#"{"wokers": 3}"#, "unknown field"),
        ("[1, 2]", "invalid simulation config"),
    ] {
        let e = SimConfig::from_json(json).unwrap_err();
        assert_eq!(e.code(), "ERR_CLAIMS_CONFIG");
        assert!(e.message.contains(says), "{json}: {}", e.message);
    }
    let bad = SimConfig {
        idle_ms: f64::NAN,
        ..SimConfig::default()
    };
    assert!(simulate(&bad).unwrap_err().message.contains("idleMs"));
}

#[test]
fn cpu_growth_runs_the_costs_grown_to_the_worker_count() {
    let growth = r#"[{"workers": 1, "worker": 1, "db": 1}, {"workers": 2, "worker": 1.3, "db": 1.1}, {"workers": 8, "worker": 1.9, "db": 1.7}]"#;
    for workers in [1u32, 2, 4, 8, 12] {
        let base =
            format!(r#"{{"jobs": 3000, "workers": {workers}, "batchSize": 10, "workMs": 0.1}}"#);
        let plain = config(&base);
        let grown = config(&format!(
            r#"{{"jobs": 3000, "workers": {workers}, "batchSize": 10, "workMs": 0.1, "cpuGrowth": {growth}}}"#
        ));
        // The same run as one given the grown costs outright.
        let by_hand = SimConfig {
            costs: grown.costs_at_scale(),
            ..plain.clone()
        };
        assert_eq!(simulate(&grown).unwrap(), simulate(&by_hand).unwrap());
        let (w, d) = match workers {
            1 => (1.0, 1.0),
            2 => (1.3, 1.1),
            4 => (1.5, 1.3),
            _ => (1.9, 1.7),
        };
        let c = grown.costs_at_scale();
        assert!((c.worker_statement_ms / plain.costs.worker_statement_ms - w).abs() < 1e-12);
        assert!((c.db_claim_ms / plain.costs.db_claim_ms - d).abs() < 1e-12);
        assert_eq!(c.commit_ms, plain.costs.commit_ms);
        let (a, b) = (simulate(&plain).unwrap(), simulate(&grown).unwrap());
        if workers == 1 {
            assert_eq!(a, b);
        } else {
            // Dearer statements: more CPU per job, and no more throughput.
            assert!(
                b.waits.worker_cpu_ms > a.waits.worker_cpu_ms
                    && b.waits.db_cpu_ms > a.waits.db_cpu_ms
            );
            assert!(
                b.throughput <= a.throughput * 1.001,
                "{workers}: {} vs {}",
                b.throughput,
                a.throughput
            );
        }
    }
}

#[test]
fn background_threads_take_handling_off_the_loop_but_not_off_the_cores() {
    let run = |json: &str, share: f64| {
        let c = SimConfig {
            worker_background_share: share,
            ..config(json)
        };
        simulate(&c).unwrap()
    };
    // One worker with cores to spare: its loop is the bottleneck, and handing a share of its
    // handling to other threads lets it turn faster, for the same CPU per job.
    let spare = r#"{"jobs": 20000, "workers": 1, "cores": 8, "workMs": 0.05}"#;
    let (on_loop, beside) = (run(spare, 0.0), run(spare, 0.4));
    assert_eq!(on_loop.bottleneck, "worker-loop");
    assert!(
        beside.throughput > on_loop.throughput * 1.1,
        "{} vs {}",
        beside.throughput,
        on_loop.throughput
    );
    let per_job = |r: &claim_sim::SimReport| r.waits.worker_cpu_ms / r.completed as f64;
    assert!((per_job(&beside) / per_job(&on_loop) - 1.0).abs() < 0.02);
    assert_eq!(beside.completed, 20_000);
    // Without jobs' work, everything the worker does is handling: its loop was busy for the
    // rest of it (eight cores: nothing waits for one).
    let handling = r#"{"jobs": 5000, "workers": 1, "cores": 8, "costs": {"cv": 0}}"#;
    let r = run(handling, 0.25);
    let loop_ms = r.utilisation.worker_loop * r.run_ms;
    assert!(
        (loop_ms / (0.75 * r.waits.worker_cpu_ms) - 1.0).abs() < 1e-6,
        "{loop_ms} vs {}",
        r.waits.worker_cpu_ms
    );
    // Eight workers on one core: every thread's CPU still comes off that core.
    let busy = r#"{"jobs": 20000, "workers": 8, "cores": 1, "workMs": 0.05}"#;
    let (on_loop, beside) = (run(busy, 0.0), run(busy, 0.4));
    assert_eq!(on_loop.bottleneck, "cpu");
    assert!(
        (beside.throughput / on_loop.throughput - 1.0).abs() < 0.05,
        "{} vs {}",
        beside.throughput,
        on_loop.throughput
    );
}
