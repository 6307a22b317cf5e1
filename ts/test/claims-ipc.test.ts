/** The forked processes' inbox: messages in order, and an ended channel never leaves a reader waiting. */
import { EventEmitter } from 'node:events';

import { describe, expect, it } from 'vitest';

import { Inbox } from '../src/lab/claims/ipc.js';

describe('Inbox', () => {
  it('gives messages in order, whether they came before or after the read', async () => {
    const source = new EventEmitter();
    const inbox = new Inbox<number>(source, 'exit', () => -1);
    source.emit('message', 1);
    source.emit('message', 2);
    expect(await inbox.next()).toBe(1);
    expect(await inbox.next()).toBe(2);
    // Reads made before anything arrives are served in the order they were made.
    const [third, fourth] = [inbox.next(), inbox.next()];
    source.emit('message', 3);
    source.emit('message', 4);
    expect(await third).toBe(3);
    expect(await fourth).toBe(4);
  });

  it("ends with the close event's message, read after what came before it, and again on every read", async () => {
    const source = new EventEmitter();
    const inbox = new Inbox<string>(source, 'exit', (code) => `exited ${String(code)}`);
    const waiting = inbox.next();
    source.emit('message', 'ran');
    source.emit('message', 'late');
    source.emit('exit', 1);
    expect(await waiting).toBe('ran');
    expect(await inbox.next()).toBe('late');
    expect(await inbox.next()).toBe('exited 1');
    expect(await inbox.next()).toBe('exited 1');
  });
});
