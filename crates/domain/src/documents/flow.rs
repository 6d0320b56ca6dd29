//! The two flows of Decree 30/2020: an outgoing document from draft to issue (Art. 15–19), and
//! an incoming copy from arrival to completion (Art. 20–24), with the statuses the sender sees
//! (edXML status codes, QCVN 102:2016) and the recall of an issued document.

use serde::{Deserialize, Serialize};

/// Where an outgoing document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutState {
    /// Being drafted (or returned for changes).
    Draft,
    /// With the head of the drafting unit for review.
    InReview,
    /// Reviewed; waiting for the competent person's sign-off.
    AwaitingSignOff,
    /// Signed off: number and date allocated, waiting for the records office to issue it.
    SignedOff,
    /// Registered in the outgoing register and sent.
    Issued,
    /// Issued, then recalled by the sender; the number is never reused.
    Recalled,
    /// A draft abandoned before sign-off.
    Cancelled,
}
names!(OutState { Draft = "draft", InReview = "in_review", AwaitingSignOff = "awaiting_sign_off",
    SignedOff = "signed_off", Issued = "issued", Recalled = "recalled", Cancelled = "cancelled" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutEvent {
    Submit,
    /// Back to the drafter, with comments.
    Return,
    Approve,
    SignOff,
    Issue,
    Recall,
    Cancel,
}
names!(OutEvent { Submit = "submit", Return = "return", Approve = "approve", SignOff = "sign_off",
    Issue = "issue", Recall = "recall", Cancel = "cancel" });

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{event:?} is not possible while the document is {state:?}")]
pub struct IllegalOut {
    pub state: OutState,
    pub event: OutEvent,
}

/// The outgoing flow. Review may be skipped when the drafter is the unit's head: `Approve`
/// then applies to a draft.
pub fn next_out(state: OutState, event: OutEvent) -> Result<OutState, IllegalOut> {
    use OutEvent as E;
    use OutState as S;
    Ok(match (state, event) {
        (S::Draft, E::Submit) => S::InReview,
        (S::Draft | S::InReview, E::Approve) => S::AwaitingSignOff,
        (S::InReview | S::AwaitingSignOff, E::Return) => S::Draft,
        (S::AwaitingSignOff, E::SignOff) => S::SignedOff,
        (S::SignedOff, E::Issue) => S::Issued,
        (S::Issued, E::Recall) => S::Recalled,
        (S::Draft | S::InReview | S::AwaitingSignOff, E::Cancel) => S::Cancelled,
        _ => return Err(IllegalOut { state, event }),
    })
}

/// Where an incoming copy is, in the recipient's hands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InState {
    /// Arrived (electronically, or a paper one being registered); not yet registered.
    Arrived,
    /// Refused on receipt (wrong addressee, failed integrity check …).
    Rejected,
    /// In the incoming register, presented to the leader.
    Registered,
    /// The leader gave direction: lead, coordinators, deadline.
    Directed,
    /// The lead unit or person is handling it.
    Processing,
    Completed,
    /// Cancelled by an accepted recall.
    Cancelled,
}
names!(InState { Arrived = "arrived", Rejected = "rejected", Registered = "registered",
    Directed = "directed", Processing = "processing", Completed = "completed", Cancelled = "cancelled" });

impl InState {
    /// The status the sender sees (edXML `StatusCode`).
    pub fn status_code(self) -> &'static str {
        match self {
            InState::Arrived => "01",
            InState::Rejected => "02",
            InState::Registered => "03",
            InState::Directed => "04",
            InState::Processing => "05",
            InState::Completed => "06",
            InState::Cancelled => "15",
        }
    }

    /// Still waiting for someone to act on it.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            InState::Arrived | InState::Registered | InState::Directed | InState::Processing
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InEvent {
    Register,
    Reject,
    /// Direction by the leader (again, to change it).
    Direct,
    /// The lead starts handling.
    Start,
    Complete,
    /// The sender's recall was accepted.
    AcceptRecall,
}
names!(InEvent { Register = "register", Reject = "reject", Direct = "direct", Start = "start",
    Complete = "complete", AcceptRecall = "accept_recall" });

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{event:?} is not possible while the incoming document is {state:?}")]
pub struct IllegalIn {
    pub state: InState,
    pub event: InEvent,
}

pub fn next_in(state: InState, event: InEvent) -> Result<InState, IllegalIn> {
    use InEvent as E;
    use InState as S;
    Ok(match (state, event) {
        (S::Arrived, E::Register) => S::Registered,
        (S::Arrived, E::Reject) => S::Rejected,
        (S::Registered | S::Directed, E::Direct) => S::Directed,
        (S::Registered | S::Directed, E::Start) => S::Processing,
        (S::Registered | S::Directed | S::Processing, E::Complete) => S::Completed,
        (s, E::AcceptRecall) if s != S::Cancelled => S::Cancelled,
        _ => return Err(IllegalIn { state, event }),
    })
}

/// The status codes of a recall (QCVN 102:2016 §1.5 of the reference).
pub mod recall_status {
    /// The sender asks for the document back.
    pub const REQUESTED: &str = "13";
    pub const ACCEPTED: &str = "15";
    pub const REFUSED: &str = "16";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outgoing_happy_path_and_returns() {
        let mut s = OutState::Draft;
        for (e, want) in [
            (OutEvent::Submit, OutState::InReview),
            (OutEvent::Return, OutState::Draft),
            (OutEvent::Submit, OutState::InReview),
            (OutEvent::Approve, OutState::AwaitingSignOff),
            (OutEvent::SignOff, OutState::SignedOff),
            (OutEvent::Issue, OutState::Issued),
            (OutEvent::Recall, OutState::Recalled),
        ] {
            s = next_out(s, e).unwrap();
            assert_eq!(s, want, "{e:?}");
        }
    }

    #[test]
    fn no_issue_without_sign_off() {
        for s in [
            OutState::Draft,
            OutState::InReview,
            OutState::AwaitingSignOff,
        ] {
            assert!(next_out(s, OutEvent::Issue).is_err());
        }
        assert!(
            next_out(OutState::SignedOff, OutEvent::Cancel).is_err(),
            "a number is never freed"
        );
        assert!(next_out(OutState::Recalled, OutEvent::Issue).is_err());
        for e in OutEvent::ALL {
            assert!(next_out(OutState::Cancelled, *e).is_err());
        }
    }

    #[test]
    fn incoming_flow_and_statuses() {
        let mut s = InState::Arrived;
        let mut codes = vec![s.status_code()];
        for e in [
            InEvent::Register,
            InEvent::Direct,
            InEvent::Start,
            InEvent::Complete,
        ] {
            s = next_in(s, e).unwrap();
            codes.push(s.status_code());
        }
        assert_eq!(codes, ["01", "03", "04", "05", "06"]);
        assert!(
            next_in(InState::Arrived, InEvent::Direct).is_err(),
            "register first"
        );
        assert!(next_in(InState::Completed, InEvent::Direct).is_err());
        assert_eq!(
            next_in(InState::Processing, InEvent::AcceptRecall),
            Ok(InState::Cancelled)
        );
        assert!(next_in(InState::Cancelled, InEvent::AcceptRecall).is_err());
        assert_eq!(InState::Rejected.status_code(), "02");
        for s in InState::ALL {
            assert_eq!(InState::parse(s.as_str()), Some(*s));
        }
    }
}
