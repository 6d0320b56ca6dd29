//! The packet an issued document travels in to a recipient outside egov: built from the
//! document as issued (its number and notation, date, kind, urgency, signer, "Nơi nhận") and
//! its files (the signed main file first), in the common form of the strict writer.
//!
//! Only an agency whose identifier the national directory can know may send through the hub:
//! a locally allocated identifier (`docs/identifiers.md`) is refused with
//! `identifier_not_registered`, and so is a recipient whose code is not a QCVN 102 identifier.
//! A secret document never travels; a document not yet issued has nothing to send.

use egov_domain::agency_code::AgencyCode;
use egov_domain::documents::flow::OutState;
use egov_domain::documents::kind::{DocKind, Urgency};
use egov_edxml::{
    Attachment, Business, BusinessAction, DocumentCode, DocumentPacket, DocumentType,
    MessageHeader, Organ, OtherInfo, Priority, SignerInfo, StaffInfo, TraceHeader, document_id,
};
use egov_store::agencies::Agency;
use egov_store::documents::DocumentRow;
use time::PrimitiveDateTime;

use crate::error::AppError;
use crate::error_code::Code;

/// A file of the document as it travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingFile {
    pub name: String,
    pub content_type: String,
    pub sha256: String,
}

/// What a packet is built from.
pub struct Outgoing<'a> {
    pub document: &'a DocumentRow,
    /// The issuing agency.
    pub sender: &'a Agency,
    /// The recipients outside egov this packet goes to: identifier and name.
    pub recipients: &'a [(String, String)],
    /// The signed main file first, then the attachments.
    pub files: &'a [OutgoingFile],
    pub action: BusinessAction,
    /// Why a document is revoked, updated or replaced.
    pub reason: &'a str,
    /// For a replacement: the `DocumentId`s of the documents it replaces.
    pub replaces: &'a [String],
    /// The records clerk who sends it.
    pub staff: StaffInfo,
    /// Now, in Vietnam's local time (the trace's timestamp).
    pub now: PrimitiveDateTime,
}

fn not_registered(what: &str, code: &str) -> AppError {
    AppError::invalid(
        Code::IdentifierNotRegistered,
        format!(
            "{what} {code} is not an identifier the national directory knows (a locally \
             allocated one cannot travel through the hub)"
        ),
    )
    .arg("code", code)
}

/// The document's `DocumentId`, number and notation as they travel.
pub fn document_code(d: &DocumentRow, sender: &str) -> Result<(String, DocumentCode), AppError> {
    let (Some(notation), Some(issued_on)) = (d.notation.as_deref(), d.issued_on) else {
        return Err(AppError::invalid(
            Code::IllegalTransition,
            "the document has no number and date yet: it is not issued",
        ));
    };
    let (number, rest) = notation.split_once('/').unwrap_or((notation, ""));
    let code = DocumentCode {
        number: number.trim().to_string(),
        notation: rest.trim().to_string(),
    };
    Ok((document_id(sender, issued_on, &code), code))
}

/// Builds the packet.
pub fn document_packet(o: &Outgoing<'_>) -> Result<DocumentPacket, AppError> {
    let d = o.document;
    if d.secrecy.is_some() {
        return Err(AppError::invalid(
            Code::SecretNotAllowed,
            "a secret document never travels through the exchange",
        ));
    }
    if !matches!(d.state, OutState::Issued | OutState::Recalled) {
        return Err(AppError::invalid(
            Code::IllegalTransition,
            format!("the document is {}, not issued", d.state.as_str()),
        ));
    }
    let sender = &o.sender.code;
    if o.sender.code_source == "local" || sender.parse::<AgencyCode>().is_err() {
        return Err(not_registered("the issuing agency's identifier", sender));
    }
    for (code, _) in o.recipients {
        if code.parse::<AgencyCode>().is_err() {
            return Err(not_registered("the recipient", code));
        }
    }
    if o.recipients.is_empty() {
        return Err(AppError::invalid(
            Code::IllegalTransition,
            "the packet has no recipient",
        ));
    }
    let (id, code) = document_code(d, sender)?;
    let kind = DocKind::by_key(&d.kind);
    let priority = match Urgency::parse(&d.urgency) {
        Some(Urgency::Urgent) => Priority::Urgent,
        Some(Urgency::VeryUrgent) => Priority::VeryUrgent,
        Some(Urgency::Express) => Priority::Express,
        _ => Priority::Normal,
    };
    let header = MessageHeader {
        from: Organ::new(sender.clone(), o.sender.name.clone()),
        to: o
            .recipients
            .iter()
            .map(|(c, n)| Organ::new(c.clone(), n.clone()))
            .collect(),
        code,
        promulgation_place: String::new(),
        promulgation_date: d.issued_on,
        document_type: DocumentType {
            // 1: a legal normative document; 2: an administrative one.
            code: if d.legal { "1" } else { "2" }.into(),
            name: kind.map(|k| k.name_vi).unwrap_or("Công văn").into(),
            detail: String::new(),
        },
        subject: d.subject.trim().to_string(),
        content: d.subject.trim().to_string(),
        signer: SignerInfo {
            competence: d.signer_mark.clone().unwrap_or_default().trim().to_string(),
            position: d
                .signer_position
                .clone()
                .unwrap_or_default()
                .trim()
                .to_string(),
            full_name: d.signer_name.clone().unwrap_or_default().trim().to_string(),
        },
        due_date: None,
        to_places: d
            .recipients_text
            .lines()
            .map(|l| l.trim().trim_start_matches(['-', '•']).trim())
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        other_info: OtherInfo {
            priority,
            promulgation_amount: Some(d.copies.clamp(0, u32::MAX as i64) as u32),
            direction: Some(false),
            ..OtherInfo::default()
        },
        response_for: Vec::new(),
        steering_type: "0".into(),
        document_id: id.clone(),
    };
    let mut business = Business {
        action: o.action.clone(),
        reason: o.reason.trim().to_string(),
        paper: Some(false),
        staff: o.staff.clone(),
        ..Business::default()
    };
    if o.action != BusinessAction::New {
        business.document_id = id;
    }
    business.replacements = o
        .replaces
        .iter()
        .map(|r| egov_edxml::ReplacementInfo {
            document_id: r.clone(),
            organ_ids: o.recipients.iter().map(|(c, _)| c.clone()).collect(),
        })
        .collect();
    let attachments = o
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| Attachment {
            name: f.name.clone(),
            content_type: f.content_type.clone(),
            content_id: format!("{}-{}", i + 1, &f.sha256[..f.sha256.len().min(16)]),
            description: if i == 0 {
                "Văn bản chính".into()
            } else {
                format!("Tệp đính kèm {i}")
            },
            ..Attachment::default()
        })
        .collect();
    Ok(DocumentPacket {
        header,
        trace: vec![TraceHeader {
            organ_id: Some(sender.clone()),
            timestamp: Some(o.now),
        }],
        business,
        signature: None,
        attachments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use egov_domain::org::{AgencyKind, Governance};
    use time::macros::{date, datetime};

    fn issued() -> DocumentRow {
        DocumentRow {
            id: 7,
            origin: "internal".into(),
            agency_id: Some(1),
            issuer_name: "Sở Nội vụ".into(),
            issuer_code: None,
            kind: "official_letter".into(),
            legal: false,
            series: Some("CV".into()),
            year: Some(2026),
            number: Some(215),
            notation: Some("215/SNV-TCBC".into()),
            issued_on: Some(date!(2026 - 12 - 07)),
            subject: "V/v báo cáo số lượng cán bộ cấp xã".into(),
            urgency: "urgent".into(),
            secrecy: None,
            state: OutState::Issued,
            drafter_id: None,
            drafting_unit_id: None,
            signer_id: None,
            signer_name: Some("Lê Văn An".into()),
            signer_mark: Some("KT. GIÁM ĐỐC".into()),
            signer_position: Some("Phó Giám đốc".into()),
            main_sha: None,
            recipients_text: "- Bộ Nội vụ;\n- Lưu: VT, TCBC.".into(),
            replaces_id: None,
            copies: 3,
            version: 1,
            created_at: datetime!(2026-12-07 02:00 UTC),
            updated_at: datetime!(2026-12-07 02:00 UTC),
        }
    }

    fn agency(code: &str, source: &str) -> Agency {
        Agency {
            id: 1,
            code: code.into(),
            code_source: source.into(),
            name: "Sở Nội vụ tỉnh Thanh Hóa".into(),
            short_name: "Sở Nội vụ".into(),
            kind: AgencyKind::Department,
            governance: Governance::Head,
            admin_unit_id: None,
            parent_id: None,
            valid_from: None,
            valid_to: None,
        }
    }

    fn outgoing<'a>(
        d: &'a DocumentRow,
        a: &'a Agency,
        recipients: &'a [(String, String)],
        files: &'a [OutgoingFile],
    ) -> Outgoing<'a> {
        Outgoing {
            document: d,
            sender: a,
            recipients,
            files,
            action: BusinessAction::New,
            reason: "",
            replaces: &[],
            staff: StaffInfo::default(),
            now: datetime!(2026-12-07 09:30:00),
        }
    }

    #[test]
    fn an_issued_document_becomes_a_packet_the_writer_accepts() {
        let d = issued();
        let a = agency("000.00.12.H56", "official");
        let to = [("000.00.00.G09".to_string(), "Bộ Nội vụ".to_string())];
        let files = [OutgoingFile {
            name: "215-SNV-TCBC.pdf".into(),
            content_type: "application/pdf".into(),
            sha256: "ab".repeat(32),
        }];
        let p = document_packet(&outgoing(&d, &a, &to, &files)).unwrap();
        assert_eq!(
            p.header.document_id,
            "000.00.12.H56,2026/12/07,215/SNV-TCBC"
        );
        assert_eq!(p.header.code.number, "215");
        assert_eq!(p.header.code.notation, "SNV-TCBC");
        assert_eq!(p.header.document_type.name, "Công văn");
        assert_eq!(p.header.other_info.priority, Priority::Urgent);
        assert_eq!(p.header.signer.competence, "KT. GIÁM ĐỐC");
        assert_eq!(p.header.to_places, vec!["Bộ Nội vụ;", "Lưu: VT, TCBC."]);
        assert_eq!(p.attachments[0].description, "Văn bản chính");
        let bytes = egov_edxml::document_to_vec(&p, &[b"%PDF-1.7\n%%EOF\n"]).unwrap();
        let back = egov_edxml::read_slice(
            &bytes,
            &egov_edxml::Limits::default(),
            &mut egov_edxml::DiscardSink,
        )
        .unwrap();
        assert_eq!(back.packet.document_id(), p.header.document_id);

        // A revocation reuses the DocumentId and says which document it concerns.
        let mut o = outgoing(&d, &a, &to, &[]);
        o.action = BusinessAction::Revocation;
        o.reason = "Sai số liệu";
        let r = document_packet(&o).unwrap();
        assert_eq!(r.header.document_id, p.header.document_id);
        assert_eq!(r.business.document_id, p.header.document_id);
        egov_edxml::document_to_vec(&r, &[]).unwrap();
    }

    #[test]
    fn what_may_not_travel_is_refused() {
        let d = issued();
        let to = [("000.00.00.G09".to_string(), "Bộ Nội vụ".to_string())];
        let local = agency("000.00.12.H56", "local");
        let err = document_packet(&outgoing(&d, &local, &to, &[])).unwrap_err();
        assert_eq!(err.code, Code::IdentifierNotRegistered);
        let ours = agency("000.00.12.H56", "official");
        let odd = [("H37.DN.001".to_string(), "Doanh nghiệp".to_string())];
        let err = document_packet(&outgoing(&d, &ours, &odd, &[])).unwrap_err();
        assert_eq!(err.code, Code::IdentifierNotRegistered);
        let mut secret = issued();
        secret.secrecy = Some("secret".into());
        let err = document_packet(&outgoing(&secret, &ours, &to, &[])).unwrap_err();
        assert_eq!(err.code, Code::SecretNotAllowed);
        let mut draft = issued();
        draft.state = OutState::Draft;
        let err = document_packet(&outgoing(&draft, &ours, &to, &[])).unwrap_err();
        assert_eq!(err.code, Code::IllegalTransition);
    }
}
