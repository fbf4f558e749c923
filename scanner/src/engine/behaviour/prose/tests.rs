use super::*;

fn show(text: &str) -> String {
    let mut s = String::new();
    for i in instructions(text) {
        s.push_str(&format!(
            "{:?} {:?} dest={:?} src={:?} target={:?} secrets={:?} content={:?} framing={:#x} | {:?}\n",
            i.kind,
            i.polarity,
            i.destination.as_ref().map(|d| d.text.clone()),
            i.source.as_ref().map(|d| d.text.clone()),
            i.target_file,
            i.secrets.iter().map(|m| (m.class, m.words.clone())).collect::<Vec<_>>(),
            i.content,
            i.framing.bits(),
            &text[i.range.clone()],
        ));
    }
    s
}

#[test]
fn debug_dump() {
    let Ok(path) = std::env::var("PROSE_DEBUG") else { return };
    let text = std::fs::read_to_string(path).unwrap();
    for para in text.split("\n====\n") {
        println!("--- {}\n{}", para.trim(), show(para));
    }
}
