//! The peers `cargo bench --bench pay` measures payrun against, in the same sitting and
//! against the same simulator: a `payrun sim` process started fresh for each contender, a
//! tight hyper loop with no journal (the floor: what the machine and the simulator allow), and
//! the home-grown Python script payrun replaces (`script.py`: threads, keep-alive, uuid4 keys).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use nix::sys::resource::{UsageWho, getrusage};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A `payrun sim` process on a free loopback port; stopped when dropped.
pub struct SimProcess {
    child: Child,
    pub addr: String,
}

impl SimProcess {
    pub fn start() -> Result<SimProcess> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_payrun"))
            .args(["sim", "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().ok_or("the simulator said nothing")??;
        let addr = first
            .strip_prefix("listening on http://")
            .ok_or_else(|| format!("unexpected first line: {first}"))?
            .trim()
            .to_string();
        // Keep reading so the simulator never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(SimProcess { child, addr })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One contender's figures.
pub struct Figures {
    pub payouts: u64,
    pub elapsed: Duration,
    /// User + system CPU of the contender (not the simulator's), if measured.
    pub cpu: Option<Duration>,
}

impl Figures {
    pub fn rate(&self) -> f64 {
        self.payouts as f64 / self.elapsed.as_secs_f64()
    }

    pub fn cpu_us_per_payout(&self) -> Option<f64> {
        self.cpu
            .map(|c| c.as_secs_f64() * 1e6 / self.payouts.max(1) as f64)
    }
}

fn cpu_of(who: UsageWho) -> Result<Duration> {
    let u = getrusage(who)?;
    let d = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
    };
    Ok(d(u.user_time()) + d(u.system_time()))
}

/// The RohoPay request bodies of a generated sample file, as a script would build them.
pub fn bodies(file: &Path) -> Result<Vec<Bytes>> {
    let mut reader = csv::Reader::from_path(file)?;
    let mut out = Vec::new();
    for record in reader.deserialize::<std::collections::HashMap<String, String>>() {
        let r = record?;
        let field = |k: &str| r.get(k).cloned().unwrap_or_default();
        let amount: u64 = field("amount").parse()?;
        let body = serde_json::json!({
            "phone": field("phone"),
            "amount": amount,
            "currency": field("currency"),
            "description": field("description"),
        });
        out.push(Bytes::from(serde_json::to_vec(&body)?));
    }
    Ok(out)
}

/// The floor: `workers` keep-alive hyper connections posting every body once, each with a
/// fresh uuid4 key, no journal. CPU is this process's (the simulator runs in its own).
pub fn hyper_floor(addr: &str, bodies: &[Bytes], workers: usize) -> Result<Figures> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let cpu_before = cpu_of(UsageWho::RUSAGE_SELF)?;
    let started = Instant::now();
    let sent = runtime.block_on(async {
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..workers {
            let (next, addr, bodies) = (next.clone(), addr.to_string(), bodies.to_vec());
            tasks.spawn(async move { post_all(&addr, &bodies, &next).await });
        }
        let mut sent = 0u64;
        while let Some(done) = tasks.join_next().await {
            sent += done
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
        }
        Ok::<u64, String>(sent)
    })?;
    let elapsed = started.elapsed();
    let cpu = cpu_of(UsageWho::RUSAGE_SELF)? - cpu_before;
    Ok(Figures {
        payouts: sent,
        elapsed,
        cpu: Some(cpu),
    })
}

/// One connection's loop: take the next body until none are left.
async fn post_all(
    addr: &str,
    bodies: &[Bytes],
    next: &std::sync::atomic::AtomicUsize,
) -> std::result::Result<u64, Box<dyn std::error::Error + Send + Sync>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut sent = 0;
    loop {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some(body) = bodies.get(i) else {
            return Ok(sent);
        };
        sender.ready().await?;
        let request = hyper::Request::post("/api/v1/disburse")
            .header(hyper::header::HOST, addr)
            .header(hyper::header::AUTHORIZATION, "Bearer live_floor")
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
            .body(Full::new(body.clone()))?;
        let answer = sender.send_request(request).await?;
        let ok = answer.status().is_success();
        answer.into_body().collect().await?;
        if ok {
            sent += 1;
        }
    }
}

/// The Python script (`benches/peer/script.py`) with `threads` threads, if `python3` runs
/// here; CPU is the script's own.
pub fn python(file: &Path, base_url: &str, threads: usize) -> Result<Option<Figures>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peer/script.py");
    let cpu_before = cpu_of(UsageWho::RUSAGE_CHILDREN)?;
    let output = match Command::new("python3")
        .arg(&script)
        .arg(file)
        .arg(base_url)
        .arg(threads.to_string())
        .stdin(Stdio::null())
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let cpu = cpu_of(UsageWho::RUSAGE_CHILDREN)? - cpu_before;
    let text = String::from_utf8_lossy(&output.stdout);
    // "sent N in S s": the sending time the script measured itself (its CSV read excluded).
    let said = text
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("sent "))
        .and_then(|l| {
            let (n, rest) = l.split_once(" in ")?;
            let secs: f64 = rest.trim_end_matches(" s").parse().ok()?;
            Some((n.parse::<u64>().ok()?, secs))
        });
    let Some((sent, secs)) = said else {
        return Err(format!(
            "the script said: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    };
    Ok(Some(Figures {
        payouts: sent,
        elapsed: Duration::from_secs_f64(secs),
        cpu: Some(cpu),
    }))
}
