//! The local document exchange hub over HTTP, driven through egov's hub client as two agencies
//! would: a document sent and received re-serialised, its transport status reported, a status
//! packet routed back to the sender; and what the hub refuses — a bad signature, a stale call,
//! an unknown system or recipient, a packet that is not one, another agency's delivery.

use std::collections::BTreeMap;

use bytes::Bytes;
use egov_app::exchange::transport::{
    Connected, HubClient, HubConfig, MessageType, Transport, TransportError,
};
use egov_edxml::*;
use egov_web::exchange_hub::{HubMode, LocalHub};
use time::macros::{date, datetime};

const THANH_HOA: &str = "000.00.00.H56";
const HOME_AFFAIRS: &str = "000.00.00.G09";

async fn hub() -> (LocalHub, String, tokio::sync::oneshot::Sender<()>) {
    let hub = LocalHub::new(
        BTreeMap::from([
            ("egov-thanhhoa".to_string(), "s3cret-th".to_string()),
            ("bnv".to_string(), "s3cret-bnv".to_string()),
        ]),
        vec![
            Connected {
                code: THANH_HOA.into(),
                name: "UBND tỉnh Thanh Hóa".into(),
                parent: None,
            },
            Connected {
                code: HOME_AFFAIRS.into(),
                name: "Bộ Nội vụ".into(),
                parent: None,
            },
        ],
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(hub.clone().serve(listener, async {
        let _ = rx.await;
    }));
    (hub, base, tx)
}

fn client(base: &str, system: &str, secret: &str) -> HubClient {
    HubClient::new(HubConfig {
        url: base.into(),
        system_id: system.into(),
        secret: secret.into(),
        timeout_seconds: 2,
        ..HubConfig::default()
    })
}

fn letter() -> (DocumentPacket, Vec<u8>) {
    let code = DocumentCode {
        number: "4521".into(),
        notation: "UBND-NC".into(),
    };
    let doc = DocumentPacket {
        header: MessageHeader {
            from: Organ::new(THANH_HOA, "UBND tỉnh Thanh Hóa"),
            to: vec![Organ::new(HOME_AFFAIRS, "Bộ Nội vụ")],
            document_id: document_id(THANH_HOA, date!(2026 - 12 - 07), &code),
            code,
            promulgation_date: Some(date!(2026 - 12 - 07)),
            document_type: DocumentType {
                code: "2".into(),
                name: "Công văn".into(),
                detail: String::new(),
            },
            subject: "V/v báo cáo sắp xếp đơn vị hành chính cấp xã".into(),
            steering_type: "0".into(),
            ..MessageHeader::default()
        },
        trace: vec![TraceHeader {
            organ_id: Some(THANH_HOA.into()),
            timestamp: Some(datetime!(2026-12-07 10:00:00)),
        }],
        attachments: vec![Attachment {
            name: "4521-UBND-NC.pdf".into(),
            content_type: "application/pdf".into(),
            content_id: "main".into(),
            ..Attachment::default()
        }],
        ..DocumentPacket::default()
    };
    (doc, b"%PDF-1.7\n% signed\n%%EOF\n".to_vec())
}

#[tokio::test]
async fn a_document_and_its_status_go_through_the_hub_re_serialised() {
    let (hub, base, _stop) = hub().await;
    let thanh_hoa = client(&base, "egov-thanhhoa", "s3cret-th");
    let ministry = client(&base, "bnv", "s3cret-bnv");

    let directory = thanh_hoa.agencies().await.unwrap();
    assert_eq!(directory.len(), 2);

    let (doc, pdf) = letter();
    let packet = document_to_vec(&doc, &[&pdf]).unwrap();
    let id = thanh_hoa
        .send(THANH_HOA, MessageType::Edoc, Bytes::from(packet.clone()))
        .await
        .unwrap();
    assert!(!id.is_empty());

    // The ministry finds it waiting, fetches it and reads the hub's re-serialisation.
    let waiting = ministry
        .received(HOME_AFFAIRS, MessageType::Edoc)
        .await
        .unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].from, THANH_HOA);
    let got = ministry.get(HOME_AFFAIRS, &waiting[0].id).await.unwrap();
    assert_ne!(got.as_ref(), packet.as_slice(), "the hub re-serialises");
    let text = String::from_utf8(got.to_vec()).unwrap();
    assert!(
        text.find("<edXML:DocumentId>") < text.find("<edXML:Code>"),
        "reordered"
    );
    assert!(text.contains("<edXML:ResponseFor/>"));
    let mut sink = MemorySink::default();
    let reading = read_slice(&got, &Limits::default(), &mut sink).unwrap();
    let Packet::Document(d) = reading.packet else {
        panic!("a document")
    };
    assert_eq!(
        d.header.document_id, doc.header.document_id,
        "same DocumentId"
    );
    assert_eq!(
        d.header.response_for,
        vec![],
        "the empty ResponseFor is nothing"
    );
    assert_eq!(d.trace.len(), 2, "the hub's hop appended");
    assert_eq!(d.trace[1].organ_id, None);
    assert_eq!(sink.files, vec![pdf]);

    // Thanh Hóa cannot take the ministry's delivery.
    let err = thanh_hoa.get(THANH_HOA, &waiting[0].id).await.unwrap_err();
    assert_eq!(err.code(), "unknown_doc");

    // Done: it no longer waits.
    ministry
        .update_status(HOME_AFFAIRS, &waiting[0].id, true)
        .await
        .unwrap();
    assert!(
        ministry
            .received(HOME_AFFAIRS, MessageType::Edoc)
            .await
            .unwrap()
            .is_empty()
    );

    // The ministry's status 03 goes back to the sender.
    let status = StatusPacket {
        from: Organ::new(HOME_AFFAIRS, "Bộ Nội vụ"),
        response_for: ResponseFor {
            organ_id: THANH_HOA.into(),
            code: "4521/UBND-NC".into(),
            promulgation_date: Some(date!(2026 - 12 - 07)),
            document_id: doc.header.document_id.clone(),
        },
        staff: StaffInfo::default(),
        status: StatusCode::Registered,
        description: "Đã vào sổ văn bản đến số 812".into(),
        timestamp: Some(datetime!(2026-12-07 10:05:00)),
    };
    ministry
        .send(
            HOME_AFFAIRS,
            MessageType::Status,
            Bytes::from(status_to_vec(&status).unwrap()),
        )
        .await
        .unwrap();
    let back = thanh_hoa
        .received(THANH_HOA, MessageType::Status)
        .await
        .unwrap();
    assert_eq!(back.len(), 1);
    let got = thanh_hoa.get(THANH_HOA, &back[0].id).await.unwrap();
    let reading = read_slice(&got, &Limits::default(), &mut DiscardSink).unwrap();
    assert_eq!(reading.packet, Packet::Status(Box::new(status)));
    assert_eq!(hub.state()["sent"], 2);
}

#[tokio::test]
async fn the_hub_refuses_what_it_should() {
    let (hub, base, _stop) = hub().await;
    let (doc, pdf) = letter();
    let packet = Bytes::from(document_to_vec(&doc, &[&pdf]).unwrap());

    let forged = client(&base, "egov-thanhhoa", "guessed");
    let err = forged
        .send(THANH_HOA, MessageType::Edoc, packet.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "bad_signature");
    let stranger = client(&base, "someone", "x");
    assert_eq!(
        stranger.agencies().await.unwrap_err().code(),
        "unknown_system"
    );

    let thanh_hoa = client(&base, "egov-thanhhoa", "s3cret-th");
    // Sending in another agency's name.
    let err = thanh_hoa
        .send(HOME_AFFAIRS, MessageType::Edoc, packet.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "from_mismatch");
    // A recipient the hub does not connect.
    let (mut other, _) = letter();
    other.header.to = vec![Organ::new("000.00.00.H41", "UBND tỉnh Nghệ An")];
    let err = thanh_hoa
        .send(
            THANH_HOA,
            MessageType::Edoc,
            Bytes::from(document_to_vec(&other, &[&pdf]).unwrap()),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unknown_recipient");
    // Not a packet; a document declared as a status.
    let err = thanh_hoa
        .send(THANH_HOA, MessageType::Edoc, Bytes::from_static(b"<html/>"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "bad_packet");
    let err = thanh_hoa
        .send(THANH_HOA, MessageType::Status, packet.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "messagetype_mismatch");
    assert_eq!(
        hub.state()["queues"].as_object().map(|q| q.len()),
        Some(0),
        "nothing was queued"
    );

    // Down: the client says the call was not handled; the hub answered 503.
    hub.set_mode(HubMode {
        down: true,
        ..HubMode::default()
    });
    let err = thanh_hoa
        .send(THANH_HOA, MessageType::Edoc, packet.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::NoAnswer(_)), "{err:?}");
    // Handled, then the answer lost: the client cannot know, and says so.
    hub.set_mode(HubMode {
        lose_answers: 1,
        ..HubMode::default()
    });
    let err = thanh_hoa
        .send(THANH_HOA, MessageType::Edoc, packet)
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::NoAnswer(_)), "{err:?}");
    assert_eq!(hub.state()["sent"], 1, "the hub did take it");
}
