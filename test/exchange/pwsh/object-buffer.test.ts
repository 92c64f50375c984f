/** The stream hand-off: order kept, producer paused above the high-water mark and resumed below it. */
import { describe, expect, it } from 'vitest';
import { ObjectBuffer } from '../../../src/exchange/pwsh/object-buffer.js';

function flowRecorder() {
  const events: string[] = [];
  return { events, flow: { pause: () => events.push('pause'), resume: () => events.push('resume') } };
}

describe('ObjectBuffer', () => {
  it('pauses the producer at the high-water mark and resumes it once the consumer catches up', async () => {
    const { events, flow } = flowRecorder();
    const buffer = new ObjectBuffer(flow, 10);
    for (let i = 0; i < 10; i++) buffer.push({ i });
    expect(events).toEqual(['pause']);
    buffer.push({ i: 10 });
    expect(events).toEqual(['pause']);
    buffer.end();
    const seen: number[] = [];
    for await (const o of buffer.drain()) seen.push(o.i as number);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(events).toEqual(['pause', 'resume']);
  });

  it('waits for objects that arrive later, then rethrows the producer\'s failure', async () => {
    const buffer = new ObjectBuffer(flowRecorder().flow);
    const seen: unknown[] = [];
    const consumer = (async () => {
      for await (const o of buffer.drain()) seen.push(o.n);
    })();
    buffer.push({ n: 1 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    buffer.push({ n: 2 });
    buffer.end(new Error('host died'));
    await expect(consumer).rejects.toThrow('host died');
    expect(seen).toEqual([1, 2]);
  });

  it('drops what arrives after the consumer abandoned it, and releases a paused producer', () => {
    const { events, flow } = flowRecorder();
    const buffer = new ObjectBuffer(flow, 2);
    buffer.push({});
    buffer.push({});
    buffer.abandon();
    buffer.push({});
    expect(events).toEqual(['pause', 'resume']);
  });
});
