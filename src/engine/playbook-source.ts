/**
 * The slice of a loaded playbook the engine needs (src/playbook/load.ts returns more). Kept narrow so
 * engine tests can build one by hand.
 */
import type { ResolvedPlaybookView } from '../actions/types.js';
import type { SourceLocation } from '../errors.js';
import type { Playbook } from '../playbook/schema.js';
import type { PlaybookRef } from './types.js';

export interface PlaybookSource {
  /** Path as given on the command line. */
  file: string;
  baseDir: string;
  /** The playbook's folder and its fileRoots (LoadedPlaybook.fileRoots); default [baseDir]. */
  fileRoots?: readonly string[];
  playbook: Playbook;
  /** sha256 of the playbook and every file it references. */
  hash: string;
  /** LoadedPlaybook.locate/origins: let actions point errors at the line a value came from (e.g. an allowlist entry). */
  locate?(path: (string | number)[]): SourceLocation | undefined;
  origins?: ReadonlyMap<string, readonly SourceLocation[]>;
}

/** Where values came from, as the actions contract carries it (optional: hand-built sources have none). */
export type PlaybookPositions = Pick<PlaybookSource, 'locate' | 'origins'>;

export function playbookView(playbook: Playbook, positions: PlaybookPositions = {}): ResolvedPlaybookView {
  return {
    name: playbook.name,
    change: playbook.change,
    acceptBreakage: playbook.acceptBreakage ?? [],
    ...(playbook.acceptNoUsageEvidence ? { acceptNoUsageEvidence: playbook.acceptNoUsageEvidence } : {}),
    steps: playbook.steps.map((s) => ({ id: s.id, uses: s.uses, with: s.with, ...(s.continueOnError ? { continueOnError: true } : {}) })),
    ...(positions.locate ? { locate: (path: readonly (string | number)[]) => positions.locate!([...path]) } : {}),
    ...(positions.origins ? { origins: positions.origins } : {}),
  };
}

export function playbookRef(source: PlaybookSource): PlaybookRef {
  return { name: source.playbook.name, file: source.file, hash: source.hash, change: source.playbook.change };
}
