// A message's edit history as stored (messages.edit_history, JSON): the texts an edit replaced.
export interface EditRecord {
  /** The text before this edit. */
  text: string | null;
  /** When the edit replaced it (the edit's timestamp, ms). */
  replaced_at: number;
}

export function parseHistory(text: string | null): EditRecord[] {
  if (!text) return [];
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? (v as EditRecord[]) : [];
  } catch {
    return [];
  }
}
