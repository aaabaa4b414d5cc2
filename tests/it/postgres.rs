//! The throwaway PostgreSQL server: started from the machine's PostgreSQL programs, loaded with
//! the contract's dataset, and gone (processes and folder) when stopped or dropped.

use std::time::Instant;

use faceoff::cancel::Cancel;
use faceoff::contestant::group::group_pids;
use faceoff::contract::dataset;
use faceoff::database::postgres::{self, Binaries, Options, Throwaway};

fn start(dir: &std::path::Path) -> Throwaway {
    let bins = Binaries::find().expect("PostgreSQL is installed (.ci/run installs it)");
    let opts = Options {
        log: dir.join("postgres.log"),
        cpus: Vec::new(),
        cancel: Cancel::new(),
    };
    Throwaway::start(&bins, &opts).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn throwaway_server_serves_the_dataset_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let db = start(dir.path());
    let data = dataset::create(&dir.path().join("data.sqlite")).unwrap();
    let mut client = db.connect(postgres::DATABASE).unwrap();
    postgres::load(&mut client, &data).unwrap();
    let ready = started.elapsed();
    eprintln!("throwaway PostgreSQL started and loaded in {ready:?}");
    assert_eq!(postgres::read_world(&mut client).unwrap(), data.world);
    let fortunes: i64 = client
        .query_one("SELECT count(*) FROM fortune", &[])
        .unwrap()
        .get(0);
    assert_eq!(fortunes, dataset::FORTUNES.len() as i64);
    // The same SQL text as on SQLite: the unquoted column name folds alike.
    let row = client
        .query_one("SELECT id, randomNumber FROM world WHERE id = $1", &[&7i32])
        .unwrap();
    assert_eq!(i64::from(row.get::<_, i32>(1)), data.world[6]);
    // Only loopback: the URL names 127.0.0.1 and the port it listens on.
    assert_eq!(
        db.url(),
        format!("postgres://faceoff@127.0.0.1:{}/faceoff", db.port())
    );
    if db.statement_counts {
        let n: i64 = client
            .query_one(
                "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements WHERE query LIKE 'SELECT id, randomNumber FROM world WHERE id%'",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(n, 1, "pg_stat_statements counts the one lookup");
    }
    let pgid = db.pgid();
    assert!(!group_pids(pgid).is_empty(), "the server runs");
    drop(client);
    assert!(db.stop(), "a fast shutdown is enough");
    assert!(group_pids(pgid).is_empty(), "no server process is left");
    let leftovers: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("faceoff-postgres-{}-", std::process::id()))
        })
        .collect();
    assert!(
        leftovers.is_empty(),
        "the data folder is removed: {leftovers:?}"
    );
}

#[test]
fn a_dropped_server_stops_even_with_clients_connected() {
    let dir = tempfile::tempdir().unwrap();
    let db = start(dir.path());
    let pgid = db.pgid();
    let client = db.connect(postgres::DATABASE).unwrap();
    drop(db);
    assert!(group_pids(pgid).is_empty(), "no server process is left");
    drop(client);
}
