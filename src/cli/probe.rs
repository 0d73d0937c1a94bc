//! `pvtui probe`: what this kernel supports and how pvtui will access memory.

use std::process::ExitCode;

use clap::Args;

use crate::error::Result;
use crate::process::{Access, capabilities};

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &ProbeArgs) -> Result<ExitCode> {
    let caps = capabilities();
    let access = Access::detect();
    if args.json {
        let mut value =
            serde_json::to_value(caps).map_err(|e| crate::Error::Internal(e.to_string()))?;
        if let Some(obj) = value.as_object_mut() {
            obj.insert("strategy".into(), access.describe().into());
            obj.insert("version".into(), env!("CARGO_PKG_VERSION").into());
        }
        super::print_json(&value)?;
        return Ok(ExitCode::SUCCESS);
    }
    let yes = |b: bool| if b { "yes" } else { "no" };
    outln!("pvtui               {}", env!("CARGO_PKG_VERSION"))?;
    outln!("pidfd_open          {}", yes(caps.pidfd_open))?;
    outln!("process_vm_readv    {}", yes(caps.process_vm_readv))?;
    outln!(
        "PROCESS_VM_PIDFD    {}{}",
        yes(caps.process_vm_pidfd),
        if access.pidfd {
            ""
        } else {
            "  -> reads go by pid and are kept only if the pidfd shows the target alive; writes go through /proc/PID/mem opened at attach"
        }
    )?;
    outln!(
        "PROCESS_VM_NOWAIT   {}{}",
        yes(caps.process_vm_nowait),
        if access.nowait {
            ""
        } else {
            "  -> residency is checked in /proc/PID/pagemap and reads run on a worker under a deadline"
        }
    )?;
    outln!("pagemap             {}", yes(caps.pagemap))?;
    match &caps.userfaultfd_error {
        None => outln!("userfaultfd         yes"),
        Some(why) => outln!("userfaultfd         no ({why})"),
    }?;
    outln!("strategy            {}", access.describe())?;
    Ok(ExitCode::SUCCESS)
}
