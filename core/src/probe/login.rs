//! The login loop both sides share: the forms of the username in order, at most two whatever the preset says (one
//! extra login, never more: Apple locks accounts that fail too often), the next form only after the server refused
//! the last one, each login an `auth` step and an `Attempt`, the whole loop bounded by the probe's deadline. How one
//! login is done is the side's own (`Login`).

use super::classify::Failure;
use super::{Attempt, Ctx, Side, Step, StepStatus};
use crate::diagnosis::DiagnosisKind;
use crate::provider::Endpoint;

/// How one login ended, as the side's protocol tells it.
pub(crate) enum LoginAnswer {
    Accepted,
    /// Refused, or failed in some other way; only `auth_rejected` lets the next form be tried.
    Refused(Failure),
}

/// One side's way of logging in once, on a connection that is ready for it (secured, greeted).
pub(crate) trait Login {
    async fn log_in(&mut self, username: &str) -> LoginAnswer;
}

/// What one side tried on one server, and how it ended.
pub(crate) struct Tries {
    /// The username that worked, or why none did.
    pub outcome: Result<String, Failure>,
    /// The last username sent; none when no login was tried.
    pub tried: Option<String>,
    /// Every try, in order.
    pub attempts: Vec<Attempt>,
}

impl Tries {
    /// A server that failed before any login: the failure is one try of its own, with no username.
    pub fn failed_before_login(ctx: &Ctx<'_>, endpoint: &Endpoint, failure: Failure) -> Tries {
        let attempt = ctx.attempt(endpoint, None, failure.kind, failure.server_text.clone());
        Tries { outcome: Err(failure), tried: None, attempts: vec![attempt] }
    }
}

/// Logs in with each form of the username in turn, as described above.
pub(crate) async fn with_each_form(ctx: &Ctx<'_>, side: Side, endpoint: &Endpoint, usernames: &[String], login: &mut impl Login) -> Tries {
    let step = |status| ctx.emit(side, Step::Auth, status, &endpoint.host, endpoint.port, None);
    let mut attempts = Vec::new();
    let forms = &usernames[..usernames.len().min(2)];
    for (i, username) in forms.iter().enumerate() {
        step(StepStatus::Started);
        let tried = Some(username.clone());
        let answer = match ctx.within(Step::Auth, login.log_in(username)).await {
            Ok(answer) => answer,
            Err(timeout) => return Tries { outcome: Err(timeout), tried, attempts },
        };
        match answer {
            LoginAnswer::Accepted => {
                attempts.push(ctx.attempt(endpoint, Some(username), DiagnosisKind::Ok, None));
                step(StepStatus::Ok);
                return Tries { outcome: Ok(username.clone()), tried, attempts };
            }
            LoginAnswer::Refused(failure) => {
                attempts.push(ctx.attempt(endpoint, Some(username), failure.kind, failure.server_text.clone()));
                step(StepStatus::Failed);
                if failure.kind != DiagnosisKind::AuthRejected || i + 1 == forms.len() {
                    return Tries { outcome: Err(failure), tried, attempts };
                }
            }
        }
    }
    Tries { outcome: Err(Failure::new(DiagnosisKind::AuthRejected, "no username to try")), tried: None, attempts }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::probe::{dns, DnsConfig, PendingTls, ProbeEvent};
    use crate::provider::Security;

    /// A side whose logins answer from a script; a login past the end of the script never answers.
    struct Scripted {
        answers: VecDeque<LoginAnswer>,
        asked: Vec<String>,
    }

    impl Login for Scripted {
        async fn log_in(&mut self, username: &str) -> LoginAnswer {
            self.asked.push(username.to_owned());
            match self.answers.pop_front() {
                Some(answer) => answer,
                None => std::future::pending().await,
            }
        }
    }

    fn refused(kind: DiagnosisKind) -> LoginAnswer {
        LoginAnswer::Refused(Failure::new(kind, "scripted").with_server_text(Some("NO scripted".into())))
    }

    /// Runs the loop over `forms` with `answers`; returns what it tried, what the server was asked, and the auth steps.
    async fn run(forms: &[&str], answers: Vec<LoginAnswer>, overall: Duration) -> (Tries, Vec<String>, Vec<StepStatus>) {
        let events = Mutex::new(Vec::new());
        let on_event = |e: ProbeEvent| events.lock().unwrap().push(e);
        let lookup = dns::Lookup::new(&DnsConfig::Servers(Vec::new()), Duration::from_millis(100));
        let tls = PendingTls { built: tokio::sync::watch::channel(Some(Err("not needed".to_owned()))).1 };
        let started = Instant::now();
        let ctx = Ctx { started, deadline: started + overall, connect_timeout: overall, tls, lookup: &lookup, on_event: &on_event };
        let endpoint = Endpoint::new("imap.mail.me.com", 993, Security::Tls);
        let usernames: Vec<String> = forms.iter().map(|f| (*f).to_owned()).collect();
        let mut side = Scripted { answers: answers.into(), asked: Vec::new() };
        let tries = with_each_form(&ctx, Side::Imap, &endpoint, &usernames, &mut side).await;
        let steps = events.lock().unwrap().iter().filter(|e| e.step == Step::Auth).map(|e| e.status).collect();
        (tries, side.asked, steps)
    }

    fn kinds(tries: &Tries) -> Vec<(Option<String>, DiagnosisKind)> {
        tries.attempts.iter().map(|a| (a.username.clone(), a.kind)).collect()
    }

    #[tokio::test]
    async fn a_refused_login_is_retried_once_with_the_next_form_and_never_more() {
        let three = ["jane", "jane@icloud.com", "third"];
        let (tries, asked, steps) =
            run(&three, vec![refused(DiagnosisKind::AuthRejected), refused(DiagnosisKind::AuthRejected)], Duration::from_secs(5)).await;
        assert_eq!(asked, ["jane", "jane@icloud.com"]);
        assert_eq!(tries.outcome.as_ref().unwrap_err().kind, DiagnosisKind::AuthRejected);
        assert_eq!(tries.tried.as_deref(), Some("jane@icloud.com"));
        let expected =
            [(Some("jane".to_owned()), DiagnosisKind::AuthRejected), (Some("jane@icloud.com".to_owned()), DiagnosisKind::AuthRejected)];
        assert_eq!(kinds(&tries), expected);
        assert_eq!(tries.attempts[0].server_text.as_deref(), Some("NO scripted"));
        assert_eq!(steps, [StepStatus::Started, StepStatus::Failed, StepStatus::Started, StepStatus::Failed]);

        let (tries, asked, steps) =
            run(&three, vec![refused(DiagnosisKind::AuthRejected), LoginAnswer::Accepted], Duration::from_secs(5)).await;
        assert_eq!(asked, ["jane", "jane@icloud.com"]);
        assert_eq!(tries.outcome.as_deref(), Ok("jane@icloud.com"));
        assert_eq!(kinds(&tries)[1], (Some("jane@icloud.com".to_owned()), DiagnosisKind::Ok));
        assert_eq!(steps, [StepStatus::Started, StepStatus::Failed, StepStatus::Started, StepStatus::Ok]);
    }

    #[tokio::test]
    async fn only_a_refused_password_tries_the_next_form() {
        let (tries, asked, _) = run(&["jane", "jane@icloud.com"], vec![refused(DiagnosisKind::ServerClosed)], Duration::from_secs(5)).await;
        assert_eq!(asked, ["jane"]);
        assert_eq!(tries.outcome.unwrap_err().kind, DiagnosisKind::ServerClosed);

        let (tries, asked, steps) = run(&[], Vec::new(), Duration::from_secs(5)).await;
        assert!(asked.is_empty() && steps.is_empty() && tries.attempts.is_empty() && tries.tried.is_none());
        assert_eq!(tries.outcome.unwrap_err().kind, DiagnosisKind::AuthRejected);
    }

    #[tokio::test]
    async fn a_login_that_never_answers_ends_at_the_deadline() {
        let (tries, asked, steps) =
            run(&["jane", "jane@icloud.com"], vec![refused(DiagnosisKind::AuthRejected)], Duration::from_millis(200)).await;
        assert_eq!(asked, ["jane", "jane@icloud.com"]);
        assert_eq!(tries.outcome.as_ref().unwrap_err().kind, DiagnosisKind::Timeout);
        // The unanswered login is the last one tried, with no try of its own and no end to its step.
        assert_eq!(tries.tried.as_deref(), Some("jane@icloud.com"));
        assert_eq!(tries.attempts.len(), 1);
        assert_eq!(steps, [StepStatus::Started, StepStatus::Failed, StepStatus::Started]);
    }
}
