/**
 * Progress for apply and rollback. On a TTY: listr2's default renderer, one task per step whose
 * output line is the latest change. Without a TTY the engine's events are printed one per line
 * instead (events.ts lineSink), and with --format json nothing but the result is printed.
 */
import { Listr } from 'listr2';
import { sequentialRunner, type StepRunner } from './apply.js';

export function listrStepRunner(): StepRunner {
  return async (tasks) => {
    if (tasks.length === 0) return;
    const list = new Listr(
      tasks.map((step) => ({
        title: step.title,
        task: async (_ctx: unknown, task: { output: string }) => {
          await step.run((message) => {
            task.output = message;
          });
        },
      })),
      // The engine decides what a failure means (failed changes are results, not thrown errors);
      // Ctrl-C is the CLI's to handle, so listr2 must not install its own signal listeners.
      { concurrent: false, exitOnError: false, registerSignalListeners: false },
    );
    await list.run();
  };
}

export function stepRunnerFor(interactive: boolean, format: string): StepRunner {
  return interactive && format !== 'json' ? listrStepRunner() : sequentialRunner;
}
