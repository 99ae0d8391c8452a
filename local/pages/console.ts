/** The operations console's static files at /console/ (its API is the ops function under /ops/). */
import type { LocalPage } from '../http-server.ts';
import { consolePage } from '../../src/console-data/static-assets.ts';

export function localPages(): LocalPage[] {
  return [consolePage];
}
