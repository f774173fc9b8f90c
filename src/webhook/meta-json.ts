// Serialises JSON the way Meta's servers do: compact, every non-ASCII character as \uXXXX with
// lowercase hex (astral characters as surrogate pairs), and "/" as "\/". Used to build sample
// deliveries that exercise the same bytes a real webhook carries.

export function toMetaJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/[\u0080-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/\//g, '\\/');
}
