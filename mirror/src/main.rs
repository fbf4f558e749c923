fn main() {
    eprintln!("skillscan-mirror: not implemented yet");
    std::process::exit(2);
}
