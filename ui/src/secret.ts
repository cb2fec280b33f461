// The app-specific password while the page needs it: typed in the password step, handed to the connection test,
// forgotten after saving or when the window closes. Never in storage, the URL, logs or a data attribute.

let value = "";

export function setPassword(v: string): void {
  value = v;
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
}

/** The shape Apple gives app-specific passwords: four groups of four letters. A soft check only. */
export function looksAppSpecific(v: string): boolean {
  return /^[a-z]{4}-[a-z]{4}-[a-z]{4}-[a-z]{4}$/.test(v.trim().toLowerCase());
}

window.addEventListener("beforeunload", forgetPassword);
