/**
 * Progress, from the first second of a run to its last: sign-in, each read (a running count on bulk
 * reads), planning, each write, verify. stdout is only ever the report; progress goes to stderr.
 * - On a terminal (stderr is a TTY): listr2's default renderer. One task per segment of the run shows
 *   the current phase and its latest line; apply's writes get one task per step (listrStepRunner).
 * - Without one: the engine's events as timestamped lines (events.ts lineSink), with heartbeat lines
 *   so that no more than HEARTBEAT_QUIET_MS pass in silence while work goes on.
 * Both render to stderr only: listr2 must not buffer stdout (the report) or stderr's other writers for
 * long, so every segment is finished before a prompt or the report (ProgressDisplay.settle).
 */
import { DefaultRenderer, Listr, ListrLogger, ProcessOutput } from 'listr2';
import type { ExchangeSession, PsObject } from '../exchange/session.js';
import { sequentialRunner, stepOutcomeText, type StepRunner } from './apply.js';
import type { Emitter } from './events.js';
import type { EventSink, RunEvent } from './types.js';

/** The longest silence on stderr while a run is working; heartbeats come earlier. */
export const HEARTBEAT_QUIET_MS = 1500;
const HEARTBEAT_TICK_MS = 250;
/** A running count at most this often, and every BULK_COUNT_EVERY objects. */
const BULK_REPORT_MS = 1000;
const BULK_COUNT_EVERY = 5000;

/** What the run is busy with, for heartbeats: the phase of the latest event. */
function phaseOf(event: RunEvent): string | null {
  switch (event.type) {
    case 'connect':
      return 'signing in';
    case 'observe':
      return 'reading the tenant';
    case 'run-start':
      return 'starting';
    case 'plan':
      return 'planning';
    case 'change-start':
    case 'change-end':
    case 'retry':
      return 'writing';
    case 'verify':
      return 'verifying';
    case 'confirm':
      return null; // waiting for a person is not work: no heartbeat under a prompt
    default:
      return null;
  }
}

export interface ProgressDisplay extends EventSink {
  /** Waits until the terminal display has finished drawing (before a prompt or the report). */
  settle(): Promise<void>;
  close(): void;
}

/**
 * Timestamped lines on stderr, plus a heartbeat line ("still signing in, 4 s") whenever nothing was
 * printed for HEARTBEAT_QUIET_MS while the run is in a working phase.
 */
export function lineProgress(write: (line: string) => void, now: () => Date = () => new Date()): ProgressDisplay {
  let last = Date.now();
  let phase: string | null = null;
  let phaseSince = Date.now();
  const line = (at: string, type: string, message: string) => {
    last = Date.now();
    write(`${at} ${type.padEnd(12)} ${message}\n`);
  };
  const timer = setInterval(() => {
    if (phase === null || Date.now() - last < HEARTBEAT_QUIET_MS) return;
    line(now().toISOString(), 'heartbeat', `still ${phase} (${Math.round((Date.now() - phaseSince) / 1000)} s)`);
  }, HEARTBEAT_TICK_MS);
  timer.unref();
  return {
    emit(event) {
      line(event.at, event.type, event.message);
      // Warnings and errors (a failed change) happen within a phase; the run goes on.
      const next = event.type === 'warning' || event.type === 'error' ? phase : event.type === 'run-end' ? null : phaseOf(event);
      if (next !== phase) phaseSince = Date.now();
      phase = next;
    },
    settle: async () => {},
    close: () => clearInterval(timer),
  };
}

/** listr2 rendering to `stream` (stderr) for everything it draws; process.stdout is never touched. */
function stderrLogger(stream: NodeJS.WriteStream): ListrLogger {
  return new ListrLogger({ processOutput: new ProcessOutput(stream, stream, { dump: ['stderr'], leaveEmptyLine: false }) });
}

/**
 * listr2 picks its live renderer only when process.stdout is a TTY; ours draws on stderr, which is the
 * terminal even when stdout is redirected to a file (`plan --format json > plan.json`).
 */
class StderrRenderer extends DefaultRenderer {
  static override nonTTY = true;
}

function listrOptions(stream: NodeJS.WriteStream) {
  const logger = stderrLogger(stream);
  return {
    renderer: StderrRenderer as typeof DefaultRenderer,
    concurrent: false,
    exitOnError: false,
    // Ctrl-C is the CLI's to handle, so listr2 must not install its own signal listeners.
    registerSignalListeners: false,
    rendererOptions: { logger, collapseSubtasks: false, showTimer: true },
    fallbackRendererOptions: { logger },
  } as const;
}

interface Segment {
  task: { title: string; output: string } | null;
  /** The title the finished task keeps: the event that closed it, fixed when it closed. */
  finalTitle: string;
  /** Closed by an event that is not a success (a plan with blocking risks): ✖, never a green tick. */
  failed: boolean;
  done: () => void;
  finished: Promise<unknown>;
}

/**
 * The terminal display: a segment (one listr2 task) opens at the first event of a phase run (sign-in,
 * reads, planning, verify) and closes when the plan is ready, the writes begin or the run ends. The
 * task's title is the phase and its elapsed time; its output line is the latest event.
 */
export function listrProgress(stream: NodeJS.WriteStream): ProgressDisplay {
  let segment: Segment | null = null;
  let finishing: Promise<unknown> = Promise.resolve();
  let phase = 'starting';
  let phaseSince = Date.now();
  let latest = '';
  const title = () => `${phase[0]!.toUpperCase()}${phase.slice(1)} (${Math.round((Date.now() - phaseSince) / 1000)} s)`;
  const timer = setInterval(() => {
    if (segment?.task) segment.task.title = title();
  }, 500);
  timer.unref();

  const open = () => {
    let done!: () => void;
    const gate = new Promise<void>((resolve) => (done = resolve));
    const s: Segment = { task: null, finalTitle: '', failed: false, done, finished: Promise.resolve() };
    const list = new Listr(
      [
        {
          title: title(),
          task: async (_ctx: unknown, task: { title: string; output: string }) => {
            s.task = task;
            task.output = latest;
            await gate;
            task.title = s.finalTitle || title();
            if (s.failed) throw new Error(task.title);
          },
        },
      ],
      listrOptions(stream),
    );
    s.finished = list.run().catch(() => undefined);
    segment = s;
  };
  const close = (failed = false) => {
    if (!segment) return;
    const s = segment;
    segment = null;
    s.finalTitle = latest;
    s.failed = failed;
    s.done();
    finishing = Promise.all([finishing, s.finished]);
  };

  return {
    emit(event) {
      latest = event.message;
      const next = phaseOf(event);
      if (event.type === 'run-end' || event.type === 'error' || event.type === 'plan' || event.type === 'confirm') {
        if (segment?.task) segment.task.output = latest;
        // A plan that apply would refuse (blocking risks) or a run that ends in drift or an error is no success.
        close(event.type === 'error' || (event.type === 'plan' && ((event.summary as { blockingRisks?: number } | undefined)?.blockingRisks ?? 0) > 0));
        return;
      }
      // apply's writes have their own display (listrStepRunner).
      if (next === 'writing') return;
      if (next && next !== phase) {
        phase = next;
        phaseSince = Date.now();
      }
      if (!segment) open();
      if (segment?.task) {
        segment.task.title = title();
        segment.task.output = latest;
      }
    },
    settle: async () => {
      close();
      await finishing;
    },
    close: () => {
      clearInterval(timer);
      close();
    },
  };
}

/** Counts the objects of every bulk read (stream) and reports a running count through the emitter. */
export function countingReads(session: ExchangeSession, emitter: Emitter): ExchangeSession {
  return {
    ...session,
    kind: session.kind,
    invoke: (cmdlet, parameters, options) => session.invoke(cmdlet, parameters, options),
    close: () => session.close(),
    ...(session.now ? { now: () => session.now!() } : {}),
    async *stream(cmdlet, parameters, options): AsyncGenerator<PsObject> {
      const started = Date.now();
      let count = 0;
      let reported = started;
      emitter.emit('observe', `${cmdlet}: reading`, { cmdlet });
      for await (const object of session.stream(cmdlet, parameters, options)) {
        count += 1;
        if (count % BULK_COUNT_EVERY === 0 || Date.now() - reported >= BULK_REPORT_MS) {
          reported = Date.now();
          emitter.emit('observe', `${cmdlet}: ${count} read so far`, { cmdlet, count });
        }
        yield object;
      }
      emitter.emit('observe', `${cmdlet}: ${count} read in ${((Date.now() - started) / 1000).toFixed(1)} s`, { cmdlet, count });
    },
  };
}

export function listrStepRunner(stream: NodeJS.WriteStream = process.stderr): StepRunner {
  return async (tasks) => {
    if (tasks.length === 0) return;
    const list = new Listr(
      tasks.map((step) => ({
        title: step.title,
        task: async (_ctx: unknown, task: { output: string; title: string; skip(message?: string): void }) => {
          const outcome = await step.run((message) => {
            task.output = message;
          });
          // A step whose changes were not all applied must not end with a green tick.
          if (outcome.failed > 0) throw new Error(`${step.title}: ${stepOutcomeText(outcome)}`);
          if (outcome.skipped > 0) task.skip(`${step.title}: ${stepOutcomeText(outcome)}`);
        },
      })),
      // The engine decides what a failure means (failed changes are results, not thrown errors).
      listrOptions(stream),
    );
    // exitOnError false: a failed step is shown (✖) and the next steps still get their say; the
    // engine already holds every result, so nothing thrown here is news.
    await list.run().catch(() => undefined);
  };
}

/** A terminal for progress: stderr is a TTY (stdout may be a file: `plan --format json > plan.json`). */
export function progressOnTerminal(stderr: { isTTY?: boolean }): boolean {
  return Boolean(stderr.isTTY);
}

export function stepRunnerFor(stderr: NodeJS.WritableStream & { isTTY?: boolean }): StepRunner {
  return progressOnTerminal(stderr) ? listrStepRunner(stderr as NodeJS.WriteStream) : sequentialRunner;
}
