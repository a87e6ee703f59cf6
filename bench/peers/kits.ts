/** The client kits by name, for the watchers child (which is told a name, not handed a kit). */
import { hocuspocusKit } from './hocuspocus-kit.js';
import type { Kit } from './kit.js';
import { sharedbKit } from './sharedb-kit.js';
import { syncdocKit } from './syncdoc-kit.js';

export const KITS: Record<string, Kit> = { syncdoc: syncdocKit, sharedb: sharedbKit, hocuspocus: hocuspocusKit };
