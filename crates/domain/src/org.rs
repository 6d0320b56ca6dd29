//! Organisation inside agencies: roles, positions and who may sign for whom.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A role granted to a person in an agency, or in one internal unit of it.
///
/// A role in an agency covers its internal units, never other agencies. `Administrator` granted
/// without an agency is the deployment's system administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Administrator,
    AgencyLeader,
    UnitLeader,
    Specialist,
    RecordsClerk,
    OneStopOfficer,
    Editor,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Administrator,
        Role::AgencyLeader,
        Role::UnitLeader,
        Role::Specialist,
        Role::RecordsClerk,
        Role::OneStopOfficer,
        Role::Editor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::AgencyLeader => "agency_leader",
            Role::UnitLeader => "unit_leader",
            Role::Specialist => "specialist",
            Role::RecordsClerk => "records_clerk",
            Role::OneStopOfficer => "one_stop_officer",
            Role::Editor => "editor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// How an agency decides: a People's Committee is a collective body (its head signs "TM."),
/// a department works under its head (deputies sign "KT.").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Governance {
    Collective,
    Head,
}

names!(Governance { Collective = "collective", Head = "head" });

/// What an agency is: the People's Committee of an administrative unit, a specialised
/// department under one, or another body (a centre, a public service unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgencyKind {
    PeopleCommittee,
    Department,
    Other,
}
names!(AgencyKind { PeopleCommittee = "people_committee", Department = "department", Other = "other" });

/// An internal unit of an agency: its office (văn phòng), a division (phòng), its one-stop
/// section (bộ phận một cửa) or another unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgUnitKind {
    Office,
    Division,
    OneStop,
    Other,
}
names!(OrgUnitKind { Office = "office", Division = "division", OneStop = "one_stop", Other = "other" });

/// What a position is in the agency's chain of command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionRank {
    /// Head of the agency (chủ tịch, giám đốc).
    Head,
    /// Deputy head of the agency (phó chủ tịch, phó giám đốc).
    Deputy,
    /// Head of an internal unit (chánh văn phòng, trưởng phòng).
    UnitHead,
    /// Deputy head of an internal unit.
    UnitDeputy,
    /// Everyone else (chuyên viên, văn thư …).
    Staff,
}

impl PositionRank {
    pub fn as_str(self) -> &'static str {
        match self {
            PositionRank::Head => "head",
            PositionRank::Deputy => "deputy",
            PositionRank::UnitHead => "unit_head",
            PositionRank::UnitDeputy => "unit_deputy",
            PositionRank::Staff => "staff",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            PositionRank::Head,
            PositionRank::Deputy,
            PositionRank::UnitHead,
            PositionRank::UnitDeputy,
            PositionRank::Staff,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// The competence marks of Decree 30/2020 that precede a signer's title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SigningForm {
    /// The head signs in their own name (agency under the head regime).
    Own,
    /// Thay mặt: the head signs for a collective body.
    #[serde(rename = "TM.")]
    Tm,
    /// Ký thay: a deputy signs for the head.
    #[serde(rename = "KT.")]
    Kt,
    /// Quyền: an acting head.
    #[serde(rename = "Q.")]
    Q,
    /// Thừa lệnh: the head of an internal unit signs by order of the head.
    #[serde(rename = "TL.")]
    Tl,
    /// Thừa ủy quyền: a time-limited written authorisation from the head.
    #[serde(rename = "TUQ.")]
    Tuq,
}

impl SigningForm {
    pub fn mark(self) -> &'static str {
        match self {
            SigningForm::Own => "",
            SigningForm::Tm => "TM.",
            SigningForm::Kt => "KT.",
            SigningForm::Q => "Q.",
            SigningForm::Tl => "TL.",
            SigningForm::Tuq => "TUQ.",
        }
    }
}

/// A kind of delegation recorded between two people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DelegationKind {
    /// Thừa lệnh (TL.): standing order for the head of an internal unit.
    ByOrder,
    /// Thừa ủy quyền (TUQ.): time-limited authorisation; cannot be passed on.
    Authorised,
}

impl DelegationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DelegationKind::ByOrder => "by_order",
            DelegationKind::Authorised => "authorised",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "by_order" => Some(DelegationKind::ByOrder),
            "authorised" => Some(DelegationKind::Authorised),
            _ => None,
        }
    }

    pub fn form(self) -> SigningForm {
        match self {
            DelegationKind::ByOrder => SigningForm::Tl,
            DelegationKind::Authorised => SigningForm::Tuq,
        }
    }
}

/// A person's posting (chức vụ) in force: the position held in an agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostingFact {
    pub agency_id: i64,
    pub rank: PositionRank,
    pub acting: bool,
}

/// A delegation in force from one person to another, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationFact {
    pub id: i64,
    pub agency_id: i64,
    pub kind: DelegationKind,
    pub delegator_id: i64,
    pub delegate_id: i64,
    pub from: OffsetDateTime,
    pub to: OffsetDateTime,
}

/// One way in which a person may sign for an agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SigningAuthority {
    pub agency_id: i64,
    pub form: SigningForm,
    /// Set when the authority comes from a delegation.
    pub delegation_id: Option<i64>,
    /// The person in whose name the signature is made (the head), when not the signer.
    pub on_behalf_of: Option<i64>,
}

/// The signing authorities a person holds at one instant, from their postings and the
/// delegations they received (Decree 30/2020, Art. 13).
pub fn signing_authorities(
    person_id: i64,
    postings: &[(PostingFact, Governance)],
    delegations: &[DelegationFact],
    at: OffsetDateTime,
) -> Vec<SigningAuthority> {
    let mut out = Vec::new();
    for (p, gov) in postings {
        let form = match (p.rank, p.acting, gov) {
            (PositionRank::Head, true, _) => Some(SigningForm::Q),
            (PositionRank::Head, false, Governance::Collective) => Some(SigningForm::Tm),
            (PositionRank::Head, false, Governance::Head) => Some(SigningForm::Own),
            (PositionRank::Deputy, _, _) => Some(SigningForm::Kt),
            _ => None,
        };
        if let Some(form) = form {
            out.push(SigningAuthority {
                agency_id: p.agency_id,
                form,
                delegation_id: None,
                on_behalf_of: None,
            });
        }
    }
    for d in delegations {
        if d.delegate_id == person_id && d.from <= at && at < d.to {
            out.push(SigningAuthority {
                agency_id: d.agency_id,
                form: d.kind.form(),
                delegation_id: Some(d.id),
                on_behalf_of: Some(d.delegator_id),
            });
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DelegationError {
    #[error("a delegation must end after it starts")]
    EmptyPeriod,
    #[error("the delegation has already expired")]
    Expired,
    #[error("a person cannot delegate to themselves")]
    SelfDelegation,
    #[error("only the head of the agency (or its acting head) can delegate signing")]
    NotHead,
    #[error("the delegate must hold a posting in the same agency")]
    DelegateOutsideAgency,
    #[error("an authorisation (TUQ.) cannot be passed on")]
    NoSubDelegation,
    #[error("delegation {0} already covers part of this period for the same people")]
    Overlap(i64),
}

/// Checks a new delegation against the rules and the delegations already recorded.
pub struct DelegationCheck<'a> {
    pub delegator_id: i64,
    pub delegate_id: i64,
    pub kind: DelegationKind,
    pub from: OffsetDateTime,
    pub to: OffsetDateTime,
    pub now: OffsetDateTime,
    /// The delegator's posting in the agency, if any.
    pub delegator_posting: Option<&'a PostingFact>,
    pub delegate_in_agency: bool,
    /// Delegations already in the store for the same agency.
    pub existing: &'a [DelegationFact],
}

impl DelegationCheck<'_> {
    pub fn run(&self) -> Result<(), DelegationError> {
        if self.to <= self.from {
            return Err(DelegationError::EmptyPeriod);
        }
        if self.to <= self.now {
            return Err(DelegationError::Expired);
        }
        if self.delegator_id == self.delegate_id {
            return Err(DelegationError::SelfDelegation);
        }
        match self.delegator_posting {
            Some(p) if p.rank == PositionRank::Head => {}
            _ => {
                let holds_authorisation = self.existing.iter().any(|d| {
                    d.delegate_id == self.delegator_id
                        && d.kind == DelegationKind::Authorised
                        && d.from <= self.now
                        && self.now < d.to
                });
                return Err(if holds_authorisation {
                    DelegationError::NoSubDelegation
                } else {
                    DelegationError::NotHead
                });
            }
        }
        if !self.delegate_in_agency {
            return Err(DelegationError::DelegateOutsideAgency);
        }
        if let Some(d) = self.existing.iter().find(|d| {
            d.delegator_id == self.delegator_id
                && d.delegate_id == self.delegate_id
                && d.kind == self.kind
                && d.from < self.to
                && self.from < d.to
        }) {
            return Err(DelegationError::Overlap(d.id));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn head(agency: i64, acting: bool) -> PostingFact {
        PostingFact {
            agency_id: agency,
            rank: PositionRank::Head,
            acting,
        }
    }

    #[test]
    fn forms_from_postings() {
        let at = datetime!(2026-03-01 08:00 UTC);
        let a = signing_authorities(1, &[(head(10, false), Governance::Collective)], &[], at);
        assert_eq!(a[0].form, SigningForm::Tm);
        let a = signing_authorities(1, &[(head(10, false), Governance::Head)], &[], at);
        assert_eq!(a[0].form, SigningForm::Own);
        let a = signing_authorities(1, &[(head(10, true), Governance::Head)], &[], at);
        assert_eq!(a[0].form, SigningForm::Q);
        let deputy = PostingFact {
            agency_id: 10,
            rank: PositionRank::Deputy,
            acting: false,
        };
        let a = signing_authorities(1, &[(deputy, Governance::Head)], &[], at);
        assert_eq!(a[0].form, SigningForm::Kt);
        let staff = PostingFact {
            agency_id: 10,
            rank: PositionRank::Staff,
            acting: false,
        };
        assert!(signing_authorities(1, &[(staff, Governance::Head)], &[], at).is_empty());
    }

    #[test]
    fn delegation_only_in_its_period() {
        let d = DelegationFact {
            id: 7,
            agency_id: 10,
            kind: DelegationKind::Authorised,
            delegator_id: 1,
            delegate_id: 2,
            from: datetime!(2026-03-01 00:00 UTC),
            to: datetime!(2026-03-10 00:00 UTC),
        };
        let inside = signing_authorities(
            2,
            &[],
            std::slice::from_ref(&d),
            datetime!(2026-03-05 00:00 UTC),
        );
        assert_eq!(inside.len(), 1);
        assert_eq!(inside[0].form, SigningForm::Tuq);
        assert_eq!(inside[0].on_behalf_of, Some(1));
        assert!(
            signing_authorities(
                2,
                &[],
                std::slice::from_ref(&d),
                datetime!(2026-03-10 00:00 UTC)
            )
            .is_empty()
        );
        assert!(signing_authorities(3, &[], &[d], datetime!(2026-03-05 00:00 UTC)).is_empty());
    }

    fn check<'a>(
        posting: Option<&'a PostingFact>,
        existing: &'a [DelegationFact],
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> DelegationCheck<'a> {
        DelegationCheck {
            delegator_id: 1,
            delegate_id: 2,
            kind: DelegationKind::Authorised,
            from,
            to,
            now: datetime!(2026-03-01 00:00 UTC),
            delegator_posting: posting,
            delegate_in_agency: true,
            existing,
        }
    }

    #[test]
    fn delegation_rules() {
        let h = head(10, false);
        let f = datetime!(2026-03-02 00:00 UTC);
        let t = datetime!(2026-03-09 00:00 UTC);
        assert_eq!(check(Some(&h), &[], f, t).run(), Ok(()));
        assert_eq!(
            check(Some(&h), &[], t, f).run(),
            Err(DelegationError::EmptyPeriod)
        );
        assert_eq!(
            check(
                Some(&h),
                &[],
                datetime!(2026-02-01 00:00 UTC),
                datetime!(2026-02-10 00:00 UTC)
            )
            .run(),
            Err(DelegationError::Expired)
        );
        let staff = PostingFact {
            agency_id: 10,
            rank: PositionRank::Staff,
            acting: false,
        };
        assert_eq!(
            check(Some(&staff), &[], f, t).run(),
            Err(DelegationError::NotHead)
        );
        let existing = [DelegationFact {
            id: 3,
            agency_id: 10,
            kind: DelegationKind::Authorised,
            delegator_id: 1,
            delegate_id: 2,
            from: datetime!(2026-03-08 00:00 UTC),
            to: datetime!(2026-03-20 00:00 UTC),
        }];
        assert_eq!(
            check(Some(&h), &existing, f, t).run(),
            Err(DelegationError::Overlap(3))
        );
        // Back to back is not an overlap.
        assert_eq!(
            check(Some(&h), &existing, f, datetime!(2026-03-08 00:00 UTC)).run(),
            Ok(())
        );
        let mut c = check(Some(&h), &[], f, t);
        c.delegate_id = 1;
        assert_eq!(c.run(), Err(DelegationError::SelfDelegation));
        let mut c = check(Some(&h), &[], f, t);
        c.delegate_in_agency = false;
        assert_eq!(c.run(), Err(DelegationError::DelegateOutsideAgency));
    }

    #[test]
    fn authorised_person_cannot_pass_it_on() {
        let given = [DelegationFact {
            id: 4,
            agency_id: 10,
            kind: DelegationKind::Authorised,
            delegator_id: 9,
            delegate_id: 1,
            from: datetime!(2026-02-01 00:00 UTC),
            to: datetime!(2026-04-01 00:00 UTC),
        }];
        let staff = PostingFact {
            agency_id: 10,
            rank: PositionRank::UnitHead,
            acting: false,
        };
        let c = check(
            Some(&staff),
            &given,
            datetime!(2026-03-02 00:00 UTC),
            datetime!(2026-03-05 00:00 UTC),
        );
        assert_eq!(c.run(), Err(DelegationError::NoSubDelegation));
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
