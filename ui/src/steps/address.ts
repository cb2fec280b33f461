// Address: live validation in the core as the person types. iCloud domains are recognised at once; other
// domains are accepted for the custom-domain check; other providers and mistakes get their own explanation.
import { describe, words } from "../diagnosis";
import { t } from "../i18n";
import { checkAddress, checkDomain, checkName, osFullName } from "../ipc";
import { el, field, text, type Step, type StepContext } from "../wizard";

/** How long typing must pause before the address is checked. */
export const CHECK_DELAY_MS = 150;

export function addressStep(): Step {
  let input: HTMLInputElement | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let nameTimer: ReturnType<typeof setTimeout> | undefined;
  let generation = 0;

  /** For a custom domain: the MX check (with a way to skip it), then the primary iCloud login that signs in. */
  const customDomain = (ctx: StepContext, box: HTMLElement, address: string, domain: string, mine: () => boolean) => {
    const check = el("div", "domain-check");
    check.id = "domain-status";
    check.setAttribute("role", "status");
    check.setAttribute("aria-busy", "true");
    const skip = el("button", "button secondary") as HTMLButtonElement;
    skip.type = "button";
    skip.id = "skip-domain-check";
    skip.textContent = t("step.address.skip_check");
    check.append(text("p", t("step.address.checking", { domain }), "spinner"), skip);

    const loginBox = el("div", "login-box");
    loginBox.hidden = true;
    const {
      label,
      input: login,
      status: loginStatus,
    } = field(
      "login",
      t("step.address.login_label"),
      {
        type: "email",
        autocomplete: "username",
        value: ctx.state.login ?? "",
        placeholder: t("step.address.placeholder"),
        literal: true,
      },
      ["login-why"],
    );
    const why = text("p", t("step.address.login_why", { domain }), "note");
    why.id = "login-why";
    loginBox.append(label, login, why, loginStatus);
    let loginTimer: ReturnType<typeof setTimeout> | undefined;
    let loginGeneration = 0;
    const checkLogin = async () => {
      const mineLogin = ++loginGeneration;
      const r = await checkAddress(login.value);
      if (mineLogin !== loginGeneration || !mine()) return;
      loginStatus.replaceChildren();
      if (r.ok && r.value.kind.type === "icloud") {
        ctx.state.login = r.value.address;
        loginStatus.className = "status ok";
        loginStatus.append(text("p", t("step.address.login_ok", { address: r.value.address })));
        login.removeAttribute("aria-invalid");
      } else {
        ctx.state.login = undefined;
        const w = r.ok ? words("login_not_icloud", { username: r.value.address }) : words(r.error.kind, r.error.facts);
        loginStatus.className = "status problem";
        loginStatus.append(text("p", w.message, "message"), text("p", w.hint, "hint"));
        login.setAttribute("aria-invalid", "true");
      }
      ctx.changed();
    };
    login.addEventListener("input", () => {
      ctx.state.login = undefined;
      ctx.changed();
      clearTimeout(loginTimer);
      loginTimer = setTimeout(checkLogin, CHECK_DELAY_MS);
    });
    const showLogin = () => {
      loginBox.hidden = false;
      check.setAttribute("aria-busy", "false");
      skip.remove();
      if (login.value) void checkLogin();
    };
    skip.addEventListener("click", () => {
      check.replaceChildren(text("p", t("step.address.check_skipped"), "note"));
      showLogin();
    });
    box.append(check, loginBox);
    void checkDomain(address).then((report) => {
      if (!mine() || loginBox.hidden === false) return;
      const d = report.diagnosis;
      // The domain as the person reads it (Unicode), whatever form the report's facts carry.
      const facts = { host: domain, ...d.facts, domain };
      const w =
        d.kind === "ok"
          ? { message: t("probe.domain_ok", facts), hint: t("probe.domain_ok_hint", facts) }
          : words(d.kind, facts, d.detail);
      check.className = d.kind === "ok" ? "domain-check ok" : "domain-check problem";
      check.dataset.kind = d.kind;
      check.replaceChildren(text("p", w.message, "message"), text("p", w.hint, "hint"));
      showLogin();
    });
  };

  return {
    id: "address",
    render(ctx: StepContext) {
      const form = el("form", "address-form") as HTMLFormElement;
      form.noValidate = true;
      const address = field("address", t("step.address.label"), {
        type: "email",
        autocomplete: "email",
        value: ctx.state.address?.address ?? "",
        placeholder: t("step.address.placeholder"),
        literal: true,
      });
      const { label, status } = address;
      input = address.input;
      form.append(label, input, status, text("p", t("step.address.help"), "note"));

      // The sender's name: optional, prefilled from the computer's account, checked as typed by the same rule as
      // every export.
      const {
        label: nameLabel,
        input: nameInput,
        status: nameStatus,
      } = field(
        "name",
        t("step.address.name_label"),
        { type: "text", autocomplete: "name", value: ctx.state.name ?? "" },
        ["name-note"],
      );
      const nameNote = text("p", t("step.address.name_note"), "note");
      nameNote.id = "name-note";
      form.append(nameLabel, nameInput, nameNote, nameStatus);
      let nameGeneration = 0;
      const checkTypedName = async () => {
        const mine = ++nameGeneration;
        const r = await checkName(nameInput.value);
        if (mine !== nameGeneration) return;
        nameStatus.replaceChildren();
        if (r.ok) {
          ctx.state.name = r.value ?? "";
          ctx.state.nameInvalid = false;
          nameStatus.className = "status";
          nameInput.removeAttribute("aria-invalid");
        } else {
          ctx.state.nameInvalid = true;
          const w = describe(r.error);
          nameStatus.className = "status problem";
          nameStatus.append(text("p", w.message, "message"), text("p", w.hint, "hint"));
          nameInput.setAttribute("aria-invalid", "true");
        }
        ctx.changed();
      };
      nameInput.addEventListener("input", () => {
        ctx.state.name = nameInput.value;
        ctx.state.nameInvalid = undefined;
        clearTimeout(nameTimer);
        nameTimer = setTimeout(checkTypedName, CHECK_DELAY_MS);
      });
      if (ctx.state.name === undefined) {
        void osFullName().then((full) => {
          if (full && ctx.state.name === undefined) {
            nameInput.value = full;
            ctx.state.name = full;
          }
        });
      }

      const check = async () => {
        const mine = ++generation;
        const value = input!.value;
        const result = await checkAddress(value);
        if (mine !== generation) return; // a newer keystroke has been checked since
        status.replaceChildren();
        if (result.ok) {
          ctx.state.address = result.value;
          const key = result.value.kind.type === "icloud" ? "step.address.ok_icloud" : "step.address.ok_custom";
          status.className = "status ok";
          status.append(text("p", t(key, { address: result.value.address, domain: result.value.domain_unicode })));
          input!.removeAttribute("aria-invalid");
          if (result.value.kind.type === "icloud") ctx.state.login = undefined;
          else customDomain(ctx, status, result.value.address, result.value.domain_unicode, () => mine === generation);
        } else {
          ctx.state.address = undefined;
          const w = describe(result.error);
          const quiet = result.error.kind === "address_empty";
          status.className = quiet ? "status" : "status problem";
          status.append(text("p", w.message, "message"), text("p", w.hint, "hint"));
          if (quiet) input!.removeAttribute("aria-invalid");
          else input!.setAttribute("aria-invalid", "true");
        }
        ctx.changed();
      };
      input.addEventListener("input", () => {
        ctx.state.address = undefined;
        ctx.changed();
        clearTimeout(timer);
        timer = setTimeout(check, CHECK_DELAY_MS);
      });
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        ctx.next();
      });
      // Enter in either field moves on: a form with two text fields and no submit button is not submitted by Enter.
      form.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && e.target instanceof HTMLInputElement) {
          e.preventDefault();
          ctx.next();
        }
      });
      if (input.value) void check();
      return form;
    },
    canProceed: (ctx) =>
      ctx.state.address !== undefined &&
      (ctx.state.address.kind.type === "icloud" || ctx.state.login !== undefined) &&
      ctx.state.nameInvalid !== true,
    leave() {
      clearTimeout(timer);
      clearTimeout(nameTimer);
      generation++;
    },
  };
}
