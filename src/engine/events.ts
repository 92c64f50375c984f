/**
 * Run events: the engine emits them to every sink in the run options (the line-per-event renderer,
 * --log-file, webhooks). A sink that throws never breaks the run.
 */
import type { EventSink, RunEvent } from './types.js';

export type EventFields = Omit<RunEvent, 'type' | 'at' | 'message'>;

export interface Emitter {
  emit(type: RunEvent['type'], message: string, fields?: EventFields): void;
}

export function createEmitter(sinks: readonly EventSink[], now: () => Date = () => new Date()): Emitter {
  return {
    emit(type, message, fields = {}) {
      const event: RunEvent = { ...fields, type, at: now().toISOString(), message };
      for (const sink of sinks) {
        try {
          sink.emit(event);
        } catch {
          // Reporting must not change the outcome of a write.
        }
      }
    },
  };
}

/** Plain lines, no ANSI: what a jump host's scheduler log should hold. */
export function lineSink(write: (line: string) => void): EventSink {
  return {
    emit(event) {
      write(`${event.at} ${event.type.padEnd(12)} ${event.message}\n`);
    },
  };
}
