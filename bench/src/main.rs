//! `paddock-bench`: a ZooKeeper load generator. See `--help` and BENCHMARKS.md.

mod args;
mod connect;
mod control;
mod cpu;
mod fanout;
mod fsync;
mod ops;
mod pipelined;
mod report;
mod run;
mod session;
mod setup;
#[cfg(test)]
mod test_server;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = args::Args::parse();
    let threads = args.threads.map_or_else(cpu::cores, |t| t as usize);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("paddock-bench: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run::run(&args, threads)) {
        Ok(report) => {
            if args.json {
                println!("{}", report.json());
            } else {
                print!("{}", report.text());
            }
            // Error replies are figures; a session that broke means the run itself failed.
            if report
                .warnings
                .iter()
                .any(|w| w.starts_with("a session failed"))
            {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("paddock-bench: {e}");
            ExitCode::from(2)
        }
    }
}
