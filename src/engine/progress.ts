/**
 * Progress for apply and rollback. On a TTY: listr2's default renderer, one task per step whose
 * output line is the latest change. Without a TTY the engine's events are printed one per line
 * instead (events.ts lineSink), and with --format json nothing but the result is printed.
 */
import { Listr } from 'listr2';
import { sequentialRunner, stepOutcomeText, type StepRunner } from './apply.js';

export function listrStepRunner(): StepRunner {
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
      // The engine decides what a failure means (failed changes are results, not thrown errors);
      // Ctrl-C is the CLI's to handle, so listr2 must not install its own signal listeners.
      { concurrent: false, exitOnError: false, registerSignalListeners: false },
    );
    // exitOnError false: a failed step is shown (✖) and the next steps still get their say; the
    // engine already holds every result, so nothing thrown here is news.
    await list.run().catch(() => undefined);
  };
}

export function stepRunnerFor(interactive: boolean, format: string): StepRunner {
  return interactive && format !== 'json' ? listrStepRunner() : sequentialRunner;
}
