/**
 * The hand-off between pwsh's output (pushed as lines arrive) and a stream() consumer (pulling at its
 * own pace). Above the high-water mark it asks the producer to pause, and to resume once the
 * consumer has caught up, so a 100,000-mailbox read never sits in memory at once.
 */
import type { PsObject } from '../session.js';

export interface FlowControl {
  pause(): void;
  resume(): void;
}

export class ObjectBuffer {
  private readonly items: PsObject[] = [];
  private head = 0;
  private finished = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private paused = false;
  private dropping = false;

  constructor(
    private readonly flow: FlowControl,
    private readonly highWater = 1000,
  ) {}

  push(object: PsObject): void {
    if (this.dropping) return;
    this.items.push(object);
    if (!this.paused && this.items.length - this.head >= this.highWater) {
      this.paused = true;
      this.flow.pause();
    }
    this.notify();
  }

  end(failure?: Error): void {
    this.finished = true;
    this.failure = failure;
    this.notify();
  }

  /** Yields buffered objects until the producer ends; rethrows the producer's failure. */
  async *drain(): AsyncGenerator<PsObject> {
    for (;;) {
      if (this.head < this.items.length) {
        const next = this.items[this.head]!;
        this.items[this.head++] = undefined as unknown as PsObject;
        if (this.head === this.items.length) {
          this.items.length = 0;
          this.head = 0;
        }
        if (this.paused && this.items.length - this.head < this.highWater / 10) {
          this.paused = false;
          this.flow.resume();
        }
        yield next;
        continue;
      }
      if (this.finished) break;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.failure) throw this.failure;
  }

  /** The consumer stopped early: drop what is left and let the producer run to its end. */
  abandon(): void {
    this.dropping = true;
    this.items.length = 0;
    this.head = 0;
    if (this.paused) {
      this.paused = false;
      this.flow.resume();
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
