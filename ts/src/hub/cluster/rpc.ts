/**
 * Batched calls between two processes over a message channel (cluster IPC here). Either end
 * calls the other's named handlers and gets a promise; calls and answers made in one turn of
 * the event loop travel together in one packet, so a hub worker taking thousands of batches a
 * second sends the store owner one message per turn, not one per batch. A `HubError` thrown
 * by a handler arrives as a `HubError` with its code; anything else as `ERR_INTERNAL`.
 */
import { HubError, hubErrors, isHubError, type HubErrorCode } from '../errors.js';

type Call = [id: number, method: string, args: unknown[]];
type WireError = { code: string; message: string };
type Answer = [id: number, ok: true, value: unknown] | [id: number, ok: false, error: WireError];

/** One message between the ends: every call and answer of one event-loop turn. */
export type RpcPacket = { fleetscaleRpc: 1; calls?: Call[]; answers?: Answer[] };

/** What an end sends through and listens on. */
export type RpcChannel = {
  send(packet: RpcPacket): void;
  onPacket(listener: (packet: RpcPacket) => void): void;
};

// biome-ignore lint/suspicious/noExplicitAny: each handler declares its own argument types; the channel carries them as JSON
export type RpcHandlers = Record<string, (...args: any[]) => unknown>;

/** Whether a channel message is one of ours (cluster IPC carries other messages too). */
export function isRpcPacket(message: unknown): message is RpcPacket {
  return typeof message === 'object' && message !== null && (message as RpcPacket).fleetscaleRpc === 1;
}

/** An error as it crosses between processes: a HubError's code and message, anything else ERR_INTERNAL. */
export function toWire(error: unknown): WireError {
  if (isHubError(error)) return { code: error.code, message: error.message };
  return { code: 'ERR_INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

/** An error that crossed between processes, back as a HubError with its code. */
export function fromWire(error: WireError): Error {
  if (error.code in hubErrors) return new HubError(error.code as HubErrorCode, error.message);
  return new HubError('ERR_INTERNAL', error.message);
}

/** One end of the link. */
export class RpcPeer {
  private nextId = 1;
  // biome-ignore lint/suspicious/noExplicitAny: a call resolves with whatever its handler returned
  private readonly waiting = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
  private calls: Call[] = [];
  private answers: Answer[] = [];
  private scheduled = false;
  private gone: Error | undefined;

  constructor(
    private readonly channel: RpcChannel,
    private readonly handlers: RpcHandlers = {},
  ) {
    channel.onPacket((packet) => this.receive(packet));
  }

  /** Calls not answered yet. */
  get inFlight(): number {
    return this.waiting.size;
  }

  /** Calls `method` on the other end. */
  call<T>(method: string, args: unknown[] = []): Promise<T> {
    if (this.gone) return Promise.reject(this.gone);
    const id = this.nextId++;
    this.calls.push([id, method, args]);
    this.schedule();
    return new Promise<T>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  /** The other end is gone: every call in flight, and every later one, fails with `error`. */
  fail(error: Error): void {
    this.gone = error;
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const { reject } of waiting) reject(error);
  }

  private receive(packet: RpcPacket): void {
    for (const answer of packet.answers ?? []) {
      const waiter = this.waiting.get(answer[0]);
      if (!waiter) continue;
      this.waiting.delete(answer[0]);
      if (answer[1]) waiter.resolve(answer[2]);
      else waiter.reject(fromWire(answer[2]));
    }
    for (const [id, method, args] of packet.calls ?? []) this.serve(id, method, args);
  }

  private serve(id: number, method: string, args: unknown[]): void {
    const handler = Object.hasOwn(this.handlers, method) ? this.handlers[method] : undefined;
    const answer = (a: Answer) => {
      this.answers.push(a);
      this.schedule();
    };
    if (!handler) {
      answer([id, false, { code: 'ERR_INTERNAL', message: `no handler "${method}" on the other end` }]);
      return;
    }
    let result: unknown;
    try {
      result = handler(...args);
    } catch (e) {
      answer([id, false, toWire(e)]);
      return;
    }
    Promise.resolve(result).then(
      (value) => answer([id, true, value]),
      (e: unknown) => answer([id, false, toWire(e)]),
    );
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const packet: RpcPacket = { fleetscaleRpc: 1 };
    if (this.calls.length) packet.calls = this.calls;
    if (this.answers.length) packet.answers = this.answers;
    this.calls = [];
    this.answers = [];
    if (!packet.calls && !packet.answers) return;
    try {
      this.channel.send(packet);
    } catch (e) {
      // The channel closed under us: our calls will not be answered.
      this.fail(new HubError('ERR_STORE_UNAVAILABLE', `the hub's store process is unreachable: ${(e as Error).message}`));
    }
  }
}
