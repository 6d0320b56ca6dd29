//! The dossier (hồ sơ thủ tục hành chính) life cycle as a state machine of named events. Every
//! state maps to a status code of the National Public Service Portal (1–10).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Submitted online, waiting for the one-stop officer's check.
    Submitted,
    /// Receipt issued with its appointment; at the reception step.
    Received,
    /// In the processing steps.
    Processing,
    /// Waiting for the applicant's supplement (the clock is stopped).
    AwaitingSupplement,
    /// Waiting for fees or financial obligations (the clock is stopped).
    AwaitingPayment,
    /// The result is ready at the return step.
    ResultReady,
    Returned,
    /// Refused at reception.
    Rejected,
    /// Processing stopped (with a stop notice).
    Stopped,
    /// Withdrawn at the applicant's request.
    Withdrawn,
}

impl State {
    pub const ALL: [State; 10] = [
        State::Submitted,
        State::Received,
        State::Processing,
        State::AwaitingSupplement,
        State::AwaitingPayment,
        State::ResultReady,
        State::Returned,
        State::Rejected,
        State::Stopped,
        State::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Submitted => "submitted",
            State::Received => "received",
            State::Processing => "processing",
            State::AwaitingSupplement => "awaiting_supplement",
            State::AwaitingPayment => "awaiting_payment",
            State::ResultReady => "result_ready",
            State::Returned => "returned",
            State::Rejected => "rejected",
            State::Stopped => "stopped",
            State::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The status code of the National Public Service Portal (`TrangThaiHoSo`).
    /// The state a dossier starts in (national status 1).
    pub const INITIAL: State = State::Submitted;

    pub fn national_code(self) -> u8 {
        match self {
            State::Submitted => 1,
            State::Received => 2,
            State::Rejected => 3,
            State::Processing => 4,
            State::AwaitingSupplement => 5,
            State::AwaitingPayment => 6,
            State::Withdrawn => 7,
            State::Stopped => 8,
            State::ResultReady => 9,
            State::Returned => 10,
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            State::Returned | State::Rejected | State::Stopped | State::Withdrawn
        )
    }

    /// The clock is stopped in these states.
    pub fn is_paused(self) -> bool {
        matches!(self, State::AwaitingSupplement | State::AwaitingPayment)
    }
}

/// How a dossier reached the agency: at a counter, online (the national portal or the
/// province's own), or by post. Stored and sent as the national portal's numbers 1, 2, 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "i64", try_from = "i64")]
pub enum Channel {
    Counter,
    Online,
    Post,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Counter, Channel::Online, Channel::Post];

    pub fn code(self) -> i64 {
        match self {
            Channel::Counter => 1,
            Channel::Online => 2,
            Channel::Post => 3,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Counter => "counter",
            Channel::Online => "online",
            Channel::Post => "post",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// When a dossier counts as received: at the counter, when the officer receives it (`now`);
    /// online or by post, when it arrived.
    pub fn received_at(self, arrived: OffsetDateTime, now: OffsetDateTime) -> OffsetDateTime {
        match self {
            Channel::Counter => now,
            Channel::Online | Channel::Post => arrived,
        }
    }
}

impl From<Channel> for i64 {
    fn from(c: Channel) -> i64 {
        c.code()
    }
}

/// A stored channel number egov does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel {0}")]
pub struct UnknownChannel(pub i64);

impl TryFrom<i64> for Channel {
    type Error = UnknownChannel;

    fn try_from(n: i64) -> Result<Channel, UnknownChannel> {
        Channel::ALL
            .into_iter()
            .find(|c| c.code() == n)
            .ok_or(UnknownChannel(n))
    }
}

/// A stored state egov does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dossier state {0:?}")]
pub struct UnknownState(pub String);

impl TryFrom<String> for State {
    type Error = UnknownState;

    fn try_from(s: String) -> Result<State, UnknownState> {
        State::parse(&s).ok_or(UnknownState(s))
    }
}

impl AsRef<str> for State {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Default for State {
    fn default() -> State {
        State::INITIAL
    }
}

/// The named events of a dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// Complete and in scope: receipt and appointment.
    Receive,
    /// Everything missing, listed at once (at reception or during processing).
    RequestSupplement,
    SupplementProvided,
    /// Not eligible or out of scope (at reception).
    Refuse,
    /// Hand over to the next processing step.
    Transfer,
    /// Assign an officer within the current step.
    Assign,
    /// Wait for fees or financial obligations.
    RequestPayment,
    PaymentReceived,
    /// Apology and extension request, before the appointment, at most once.
    Apologize,
    Stop,
    Withdraw,
    /// The result is ready: hand over to the return step.
    Finish,
    ReturnResult,
}

impl Event {
    pub const ALL: [Event; 13] = [
        Event::Receive,
        Event::RequestSupplement,
        Event::SupplementProvided,
        Event::Refuse,
        Event::Transfer,
        Event::Assign,
        Event::RequestPayment,
        Event::PaymentReceived,
        Event::Apologize,
        Event::Stop,
        Event::Withdraw,
        Event::Finish,
        Event::ReturnResult,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Receive => "receive",
            Event::RequestSupplement => "request_supplement",
            Event::SupplementProvided => "supplement_provided",
            Event::Refuse => "refuse",
            Event::Transfer => "transfer",
            Event::Assign => "assign",
            Event::RequestPayment => "request_payment",
            Event::PaymentReceived => "payment_received",
            Event::Apologize => "apologize",
            Event::Stop => "stop",
            Event::Withdraw => "withdraw",
            Event::Finish => "finish",
            Event::ReturnResult => "return_result",
        }
    }

    pub fn parse(s: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What the machine needs to know of a dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub state: State,
    /// Index of the current step (0 = reception; the last = return).
    pub step: usize,
    pub steps: usize,
    /// True while a supplement requested at reception (before any receipt) is awaited.
    pub supplement_before_receipt: bool,
    pub supplements: u32,
    pub apologies: u32,
    pub appointment: Option<OffsetDateTime>,
}

/// The dossier after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub state: State,
    pub step: usize,
    pub supplement_before_receipt: bool,
    pub supplements: u32,
    pub apologies: u32,
    /// A second supplement request during processing counts the dossier as late.
    pub counts_late: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("{event:?} is not possible while the dossier is {state:?}")]
    Illegal { state: State, event: Event },
    #[error("an apology and extension request is issued only before the appointment")]
    ApologyTooLate,
    #[error("an apology and extension request is issued at most once")]
    SecondApology,
    #[error("the dossier is at its last processing step: finish it with the result")]
    NoNextStep,
    #[error("the dossier has processing steps left")]
    StepsLeft,
}

/// Applies an event. `now` decides whether an apology is still before the appointment.
pub fn apply(s: &Snapshot, event: Event, now: OffsetDateTime) -> Result<Outcome, TransitionError> {
    use Event as E;
    use State as S;
    let illegal = || TransitionError::Illegal {
        state: s.state,
        event,
    };
    let mut o = Outcome {
        state: s.state,
        step: s.step,
        supplement_before_receipt: s.supplement_before_receipt,
        supplements: s.supplements,
        apologies: s.apologies,
        counts_late: false,
    };
    let last_processing = s.steps.saturating_sub(2);
    match (s.state, event) {
        (S::Submitted, E::Receive) => o.state = S::Received,
        (S::Submitted, E::RequestSupplement) => {
            o.state = S::AwaitingSupplement;
            o.supplement_before_receipt = true;
        }
        (S::Submitted, E::Refuse) => o.state = S::Rejected,
        (S::AwaitingSupplement, E::Refuse) if s.supplement_before_receipt => o.state = S::Rejected,
        (S::AwaitingSupplement, E::SupplementProvided) => {
            o.state = if s.supplement_before_receipt {
                S::Submitted
            } else {
                S::Processing
            };
            o.supplement_before_receipt = false;
        }
        (S::Received | S::Processing, E::RequestSupplement) => {
            o.state = S::AwaitingSupplement;
            o.supplements += 1;
            o.counts_late = o.supplements >= 2;
        }
        (S::Received, E::Transfer) => {
            if s.step + 1 > last_processing {
                return Err(TransitionError::NoNextStep);
            }
            o.state = S::Processing;
            o.step = s.step + 1;
        }
        (S::Processing, E::Transfer) => {
            if s.step + 1 > last_processing {
                return Err(TransitionError::NoNextStep);
            }
            o.step = s.step + 1;
        }
        (S::Received | S::Processing | S::AwaitingPayment | S::AwaitingSupplement, E::Assign) => {}
        (S::Processing, E::RequestPayment) => o.state = S::AwaitingPayment,
        (S::AwaitingPayment, E::PaymentReceived) => o.state = S::Processing,
        (
            S::Received | S::Processing | S::AwaitingSupplement | S::AwaitingPayment,
            E::Apologize,
        ) => {
            if s.supplement_before_receipt {
                return Err(illegal());
            }
            if s.apologies >= 1 {
                return Err(TransitionError::SecondApology);
            }
            if s.appointment.is_none_or(|a| now >= a) {
                return Err(TransitionError::ApologyTooLate);
            }
            o.apologies += 1;
        }
        (S::Received | S::Processing | S::AwaitingSupplement | S::AwaitingPayment, E::Stop) => {
            o.state = S::Stopped
        }
        (
            S::Submitted | S::Received | S::Processing | S::AwaitingSupplement | S::AwaitingPayment,
            E::Withdraw,
        ) => o.state = S::Withdrawn,
        (S::Processing, E::Finish) => {
            if s.step != last_processing {
                return Err(TransitionError::StepsLeft);
            }
            o.state = S::ResultReady;
            o.step = s.steps.saturating_sub(1);
        }
        (S::ResultReady, E::ReturnResult) => o.state = S::Returned,
        _ => return Err(illegal()),
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn at(state: State, step: usize) -> Snapshot {
        Snapshot {
            state,
            step,
            steps: 4,
            supplement_before_receipt: false,
            supplements: 0,
            apologies: 0,
            appointment: Some(datetime!(2026-03-09 17:00 +7)),
        }
    }

    const NOW: OffsetDateTime = time::macros::datetime!(2026-03-03 10:00 +7);

    #[test]
    fn the_happy_path() {
        let mut s = at(State::Submitted, 0);
        for (event, state, step) in [
            (Event::Receive, State::Received, 0),
            (Event::Transfer, State::Processing, 1),
            (Event::Transfer, State::Processing, 2),
            (Event::Finish, State::ResultReady, 3),
            (Event::ReturnResult, State::Returned, 3),
        ] {
            let o = apply(&s, event, NOW).unwrap();
            assert_eq!((o.state, o.step), (state, step), "{event:?}");
            s.state = o.state;
            s.step = o.step;
        }
        assert!(
            apply(&s, Event::Transfer, NOW).is_err(),
            "returned is terminal"
        );
    }

    #[test]
    fn illegal_transitions_are_refused() {
        assert_eq!(
            apply(&at(State::Received, 0), Event::ReturnResult, NOW),
            Err(TransitionError::Illegal {
                state: State::Received,
                event: Event::ReturnResult
            })
        );
        assert_eq!(
            apply(&at(State::Processing, 2), Event::Transfer, NOW),
            Err(TransitionError::NoNextStep)
        );
        assert_eq!(
            apply(&at(State::Processing, 1), Event::Finish, NOW),
            Err(TransitionError::StepsLeft)
        );
        assert!(apply(&at(State::Rejected, 0), Event::Receive, NOW).is_err());
        assert!(
            apply(&at(State::Processing, 1), Event::Refuse, NOW).is_err(),
            "refusal is only at reception"
        );
        for e in Event::ALL {
            for terminal in [
                State::Returned,
                State::Rejected,
                State::Stopped,
                State::Withdrawn,
            ] {
                assert!(
                    apply(&at(terminal, 0), e, NOW).is_err(),
                    "{terminal:?} {e:?}"
                );
            }
        }
    }

    #[test]
    fn supplements_pause_and_the_second_counts_late() {
        let o = apply(&at(State::Processing, 1), Event::RequestSupplement, NOW).unwrap();
        assert_eq!(
            (o.state, o.supplements, o.counts_late),
            (State::AwaitingSupplement, 1, false)
        );
        assert!(o.state.is_paused());
        let back = apply(
            &Snapshot {
                state: o.state,
                supplements: 1,
                ..at(State::Processing, 1)
            },
            Event::SupplementProvided,
            NOW,
        )
        .unwrap();
        assert_eq!(back.state, State::Processing);
        let again = apply(
            &Snapshot {
                supplements: 1,
                ..at(State::Processing, 1)
            },
            Event::RequestSupplement,
            NOW,
        )
        .unwrap();
        assert!(again.counts_late);
        // At reception, before any receipt: back to the check, or refused.
        let r = apply(&at(State::Submitted, 0), Event::RequestSupplement, NOW).unwrap();
        assert!(r.supplement_before_receipt);
        let s = Snapshot {
            state: State::AwaitingSupplement,
            supplement_before_receipt: true,
            ..at(State::Submitted, 0)
        };
        assert_eq!(
            apply(&s, Event::SupplementProvided, NOW).unwrap().state,
            State::Submitted
        );
        assert_eq!(
            apply(&s, Event::Refuse, NOW).unwrap().state,
            State::Rejected
        );
        assert!(apply(&s, Event::Apologize, NOW).is_err());
    }

    #[test]
    fn apology_once_and_before_the_appointment() {
        let o = apply(&at(State::Processing, 1), Event::Apologize, NOW).unwrap();
        assert_eq!(o.apologies, 1);
        assert_eq!(
            apply(
                &Snapshot {
                    apologies: 1,
                    ..at(State::Processing, 1)
                },
                Event::Apologize,
                NOW
            ),
            Err(TransitionError::SecondApology)
        );
        assert_eq!(
            apply(
                &at(State::Processing, 1),
                Event::Apologize,
                datetime!(2026-03-09 17:00 +7)
            ),
            Err(TransitionError::ApologyTooLate)
        );
    }

    #[test]
    fn national_codes_cover_1_to_10() {
        let mut codes: Vec<u8> = State::ALL.iter().map(|s| s.national_code()).collect();
        codes.sort();
        assert_eq!(codes, (1..=10).collect::<Vec<_>>());
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        for e in Event::ALL {
            assert_eq!(Event::parse(e.as_str()), Some(e));
        }
    }
}
