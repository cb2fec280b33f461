// The IPC wrappers: a diagnosis crosses as kind + facts (+ detail) and becomes a Result; anything else is a bug
// that surfaces as an error, never as a verdict.
import { afterEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { checkAddress, checkDomain, exportProfile } from "./ipc";

afterEach(() => clearMocks());

describe("ipc", () => {
  it("turns a thrown diagnosis (kind, facts, detail) into a failed Result", async () => {
    mockIPC(() => {
      throw { kind: "address_missing_at", facts: { username: "jane" }, detail: null };
    });
    expect(await checkAddress("jane")).toEqual({
      ok: false,
      error: { kind: "address_missing_at", facts: { username: "jane" }, detail: null },
    });
  });

  it("does not mistake other errors for a diagnosis", async () => {
    mockIPC(() => {
      throw { kind: "address_missing_at", message: "old shape, no facts" };
    });
    await expect(checkAddress("jane")).rejects.toThrow("IPC call check_address failed");
    mockIPC(() => {
      throw "command check_address not found";
    });
    await expect(checkAddress("jane")).rejects.toThrow("not found");
  });

  it("sends the arguments the commands take", async () => {
    const seen: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      seen.push([cmd, args]);
      return cmd === "export_profile" ? null : { diagnosis: { kind: "ok", facts: {}, detail: null } };
    });
    expect(await exportProfile("jane@family.example", "jane@icloud.com", "Jane", "settings-html", "de", true)).toEqual({
      ok: true,
      value: null,
    });
    await checkDomain("jane@family.example");
    expect(seen).toEqual([
      [
        "export_profile",
        {
          address: "jane@family.example",
          login: "jane@icloud.com",
          name: "Jane",
          format: "settings-html",
          lang: "de",
          saveAs: true,
          withDav: false,
        },
      ],
      ["check_domain", { address: "jane@family.example" }],
    ]);
  });
});
