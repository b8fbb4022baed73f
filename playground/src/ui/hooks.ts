/** What the panels need from the page. */
import type { Session } from '../lib/session.js';
import type { Current } from '../main.js';

export interface PageHooks {
  session: Session;
  current(): Current | undefined;
  /** the instruction slot under the editor's cursor */
  cursorSlot(): number | undefined;
  refreshMarks(): void;
  saveUrl(): void;
  status(text: string): void;
}
