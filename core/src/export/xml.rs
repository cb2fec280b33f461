//! The XML formats' common frame (Outlook's Autodiscover, Thunderbird's autoconfig), written with quick-xml: the
//! declaration, the document, a final line break, and a write error made a diagnosis.

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::{render_failed, ExportFormat};
use crate::account::Account;
use crate::diagnosis::Diagnosis;

/// An indented XML document whose declaration names `encoding` as the client spells it; `body` writes the root.
pub(super) fn document(
    format: ExportFormat,
    account: &Account,
    encoding: &str,
    body: impl FnOnce(&mut Writer<Vec<u8>>) -> std::io::Result<()>,
) -> Result<Vec<u8>, Diagnosis> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some(encoding), None)))
        .and_then(|()| body(&mut w))
        .map_err(|e| render_failed(format, account, &e))?;
    let mut bytes = w.into_inner();
    bytes.push(b'\n');
    Ok(bytes)
}

/// `<name>value</name>`, the value escaped.
pub(super) fn text(w: &mut Writer<Vec<u8>>, name: &str, value: &str) -> std::io::Result<()> {
    w.create_element(name).write_text_content(BytesText::new(value))?;
    Ok(())
}
