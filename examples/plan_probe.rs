use std::time::Instant;
const N: i64 = 200_000;
fn schema(c: &rusqlite::Connection, v: u32) {
    let uniq = if v >= 3 {
        ""
    } else {
        ", UNIQUE (batch_id, identity)"
    };
    c.execute_batch(&format!("CREATE TABLE rows (id INTEGER PRIMARY KEY, batch_id TEXT NOT NULL, line INTEGER NOT NULL, identity TEXT NOT NULL, idem_key TEXT, key_hash INTEGER, reference TEXT, phone TEXT NOT NULL, amount_minor INTEGER, amount_text TEXT NOT NULL, currency TEXT NOT NULL, request_body BLOB, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL {uniq});
    CREATE INDEX rows_open ON rows (batch_id, id) WHERE state IN ('planned','sending','in_doubt');")).unwrap();
    if v == 1 {
        c.execute_batch(
            "CREATE UNIQUE INDEX rows_key ON rows (idem_key) WHERE idem_key IS NOT NULL;",
        )
        .unwrap();
    }
    if v >= 2 {
        c.execute_batch("CREATE INDEX rows_key ON rows (key_hash) WHERE key_hash IS NOT NULL;")
            .unwrap();
    }
}
fn run(label: &str, v: u32, multi: usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.db");
    let mut c = rusqlite::Connection::open(&path).unwrap();
    let _: String = c
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .unwrap();
    c.pragma_update(None, "cache_size", -65536).unwrap();
    schema(&c, v);
    let rows: Vec<(String, String, i64)> = (0..N)
        .map(|i| {
            let id = format!("EMP-{i:07}");
            let k = payrun::keys::idempotency_key("big-batch", &id);
            (id, k.to_string(), k.as_u128() as i64)
        })
        .collect();
    let body = vec![b'x'; 95];
    let t = Instant::now();
    let tx = c.transaction().unwrap();
    {
        let one = "(?, ?, ?, ?, ?, ?, '256770010002', 25000, '25000', 'UGX', ?, 'planned', 0, 0)";
        let sql = format!(
            "INSERT INTO rows (batch_id, line, identity, idem_key, key_hash, reference, phone, amount_minor, amount_text, currency, request_body, state, created_at, updated_at) VALUES {}",
            vec![one; multi].join(",")
        );
        let mut st = tx.prepare_cached(&sql).unwrap();
        for chunk in rows.chunks(multi) {
            let mut params: Vec<&dyn rusqlite::ToSql> = Vec::new();
            let mut lines = Vec::new();
            for (i, _) in chunk.iter().enumerate() {
                lines.push(i as i64);
            }
            for (i, (id, key, h)) in chunk.iter().enumerate() {
                params.push(&"big-batch");
                params.push(&lines[i]);
                params.push(id);
                params.push(key);
                params.push(h);
                params.push(id);
                params.push(&body);
            }
            if chunk.len() == multi {
                st.execute(params.as_slice()).unwrap();
            }
        }
    }
    tx.commit().unwrap();
    println!(
        "{label}: {:.2} us/row",
        t.elapsed().as_secs_f64() * 1e6 / N as f64
    );
}
fn main() {
    run("v1 current (uuid text unique)", 1, 1);
    run("v2 key_hash int index", 2, 1);
    run("v3 key_hash, no (batch,identity) unique", 3, 1);
    run("v1 multi-row 64", 1, 64);
    run("v2 multi-row 64", 2, 64);
    run("v3 multi-row 64", 3, 64);
}
