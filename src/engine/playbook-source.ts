/**
 * The slice of a loaded playbook the engine needs (src/playbook/load.ts returns more). Kept narrow so
 * engine tests can build one by hand.
 */
import type { ResolvedPlaybookView } from '../actions/types.js';
import type { Playbook } from '../playbook/schema.js';
import type { PlaybookRef } from './types.js';

export interface PlaybookSource {
  /** Path as given on the command line. */
  file: string;
  baseDir: string;
  playbook: Playbook;
  /** sha256 of the playbook and every file it references. */
  hash: string;
}

export function playbookView(playbook: Playbook): ResolvedPlaybookView {
  return {
    name: playbook.name,
    change: playbook.change,
    acceptBreakage: playbook.acceptBreakage ?? [],
    steps: playbook.steps.map((s) => ({ id: s.id, uses: s.uses, with: s.with })),
  };
}

export function playbookRef(source: PlaybookSource): PlaybookRef {
  return { name: source.playbook.name, file: source.file, hash: source.hash, change: source.playbook.change };
}
