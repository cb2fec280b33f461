// The app-specific password while the page needs it: typed in the password step, handed to the connection test,
// forgotten after saving, when the window closes, or when the app forgets its own copy. Never in storage, the
// URL, logs or a data attribute.

/** How long the page keeps a typed password: the same time the app keeps a tested one (`KEEP_PASSWORD_FOR` in
 * src-tauri/src/state.rs; a Rust test checks they agree), so the page never holds it after the app has dropped it. */
export const KEEP_PASSWORD_MS = 5 * 60 * 1000;

let value = "";
let timer: ReturnType<typeof setTimeout> | undefined;

export function setPassword(v: string): void {
  value = v;
  if (timer !== undefined) clearTimeout(timer);
  timer = v ? setTimeout(forgetPassword, KEEP_PASSWORD_MS) : undefined;
}

export function password(): string {
  return value;
}

export function hasPassword(): boolean {
  return value.length > 0;
}

/** Drops the password from the page (after saving, on close). */
export function forgetPassword(): void {
  value = "";
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
}

/** The shape Apple gives app-specific passwords: four groups of four letters. A soft check only. */
export function looksAppSpecific(v: string): boolean {
  return /^[a-z]{4}-[a-z]{4}-[a-z]{4}-[a-z]{4}$/.test(v.trim().toLowerCase());
}

window.addEventListener("beforeunload", forgetPassword);
