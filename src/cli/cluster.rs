//! `--cluster <command>`: argument checking, help, and the node checks
//! that precede every cluster operation. Ermine runs standalone, so once
//! a node is reached the operation reports it is not a cluster node.

use super::conn::Conn;
use super::reply::Reply;
use super::{atoi32, err_str, exit, out_str, Config};

struct Def {
    name: &'static str,
    arity: i32,
    args: &'static str,
    options: &'static str,
}

const COMMANDS: &[Def] = &[
    Def { name: "create", arity: -2, args: "host1:port1 ... hostN:portN", options: "replicas <arg>" },
    Def { name: "check", arity: -1, args: "<host:port> or <host> <port> - separated by either colon or space", options: "search-multiple-owners" },
    Def { name: "info", arity: -1, args: "<host:port> or <host> <port> - separated by either colon or space", options: "" },
    Def { name: "fix", arity: -1, args: "<host:port> or <host> <port> - separated by either colon or space", options: "search-multiple-owners,fix-with-unreachable-masters" },
    Def { name: "reshard", arity: -1, args: "<host:port> or <host> <port> - separated by either colon or space", options: "from <arg>,to <arg>,slots <arg>,yes,timeout <arg>,pipeline <arg>,replace" },
    Def { name: "rebalance", arity: -1, args: "<host:port> or <host> <port> - separated by either colon or space", options: "weight <node1=w1...nodeN=wN>,use-empty-masters,timeout <arg>,simulate,pipeline <arg>,threshold <arg>,replace" },
    Def { name: "add-node", arity: 2, args: "new_host:new_port existing_host:existing_port", options: "slave,master-id <arg>" },
    Def { name: "del-node", arity: 2, args: "host:port node_id", options: "" },
    Def { name: "call", arity: -2, args: "host:port command arg arg .. arg", options: "only-masters,only-replicas" },
    Def { name: "set-timeout", arity: 2, args: "host:port milliseconds", options: "" },
    Def { name: "import", arity: 1, args: "host:port", options: "from <arg>,from-user <arg>,from-pass <arg>,from-askpass,copy,replace" },
    Def { name: "backup", arity: 2, args: "host:port backup_directory", options: "" },
    Def { name: "help", arity: 0, args: "", options: "" },
];

const INVALID_HOST: &str = "[ERR] Invalid arguments: you need to pass either a valid address (ie. 120.0.0.1:7000) or space separated IP and port (ie. 120.0.0.1 7000)\n";

fn use_colors() -> bool {
    std::env::var("TERM")
        .map(|t| t.contains("xterm"))
        .unwrap_or(false)
}

fn log(color: &str, msg: &str) {
    if use_colors() {
        out_str(&format!("\x1b[{}{}\x1b[0m", color, msg));
    } else {
        out_str(msg);
    }
}

fn help() {
    let pad = 15;
    let mut o = String::from("Cluster Manager Commands:\n");
    for d in COMMANDS {
        o.push_str(&format!("  {:<w$}{}\n", d.name, d.args, w = pad));
        if !d.options.is_empty() {
            for opt in d.options.split(',') {
                o.push_str(&format!("{}  --cluster-{}\n", " ".repeat(pad), opt));
            }
        }
    }
    o.push_str("\nFor check, fix, reshard, del-node, set-timeout, info, rebalance, call, import, backup you can specify the host and port of any working node in the cluster.\n");
    o.push_str("\nCluster Manager Options:\n");
    o.push_str(&format!(
        "  {:<w$}{}\n",
        "--cluster-yes",
        "Automatic yes to cluster commands prompts",
        w = pad
    ));
    o.push('\n');
    out_str(&o);
}

/// ip:port[@bus_port]
fn parse_addr(a: &str) -> Option<(String, i32)> {
    let a = match a.rfind('@') {
        Some(p) => &a[..p],
        None => a,
    };
    let c = a.rfind(':')?;
    Some((a[..c].to_string(), atoi32(&a[c + 1..])))
}

fn host_from_args(args: &[String]) -> Option<(String, i32)> {
    let (ip, port) = if args.len() == 1 {
        parse_addr(&args[0])?
    } else {
        (args.first()?.clone(), atoi32(args.get(1)?))
    };
    if port == 0 {
        return None;
    }
    Some((ip, port))
}

/// Connect, authenticate and check `cluster_enabled`; exits on failure.
fn load_node(cfg: &Config, ip: &str, port: i32) {
    let mut c = match Conn::connect(ip, port, None) {
        Ok(c) => c,
        Err(e) => {
            err_str(&format!(
                "Could not connect to Redis at {}:{}: {}\n",
                ip, port, e
            ));
            exit(1);
        }
    };
    if let Some(pass) = &cfg.auth {
        let r = match &cfg.user {
            Some(u) => c.command(&[b"AUTH", u, pass]),
            None => c.command(&[b"AUTH", pass]),
        };
        match r {
            Ok(Reply::Error(e)) => {
                log(
                    "31;1m",
                    &format!(
                        "Node {}:{} replied with error:\n{}\n",
                        ip,
                        port,
                        String::from_utf8_lossy(&e)
                    ),
                );
                exit(1);
            }
            Err(e) => {
                log(
                    "31;1m",
                    &format!("Node {}:{} replied with error:\n{}\n", ip, port, e.msg),
                );
                exit(1);
            }
            _ => {}
        }
    }
    let enabled = match c.command(&[b"INFO"]) {
        Ok(Reply::Bulk(info)) | Ok(Reply::Verb(info)) => {
            let info = String::from_utf8_lossy(&info).into_owned();
            info.find("cluster_enabled:")
                .map(|p| atoi32(&info[p + "cluster_enabled:".len()..]) != 0)
                .unwrap_or(false)
        }
        Ok(Reply::Error(e)) => {
            log(
                "31;1m",
                &format!(
                    "[ERR] Node {}:{} {}\n",
                    ip,
                    port,
                    String::from_utf8_lossy(&e)
                ),
            );
            exit(1);
        }
        _ => false,
    };
    if !enabled {
        log(
            "31;1m",
            &format!(
                "[ERR] Node {}:{} is not configured as a cluster node.\n",
                ip, port
            ),
        );
        exit(1);
    }
    err_str("Cluster management is not supported by ermine-cli.\n");
    exit(1);
}

pub fn run(cfg: &Config, name: &str, args: &[String]) -> ! {
    let Some(def) = COMMANDS.iter().find(|d| d.name == name) else {
        err_str("Unknown --cluster subcommand\n");
        exit(1);
    };
    let argc = args.len() as i32;
    if (def.arity > 0 && argc != def.arity) || (def.arity < 0 && argc < -def.arity) {
        err_str("[ERR] Wrong number of arguments for specified --cluster sub command\n");
        exit(1);
    }
    let invalid = || -> ! {
        err_str(INVALID_HOST);
        exit(1)
    };
    match name {
        "help" => {
            help();
            exit(1);
        }
        "check" | "info" | "fix" | "reshard" | "rebalance" => {
            let (ip, port) = host_from_args(args).unwrap_or_else(|| invalid());
            load_node(cfg, &ip, port);
        }
        "create" => {
            for a in args {
                let Some((ip, port)) = parse_addr(a) else {
                    err_str(&format!("Invalid address for '{}'\n", a));
                    exit(1);
                };
                load_node(cfg, &ip, port);
            }
            exit(1);
        }
        "add-node" => {
            let (rip, rport) = host_from_args(&args[1..]).unwrap_or_else(|| invalid());
            let (ip, port) = host_from_args(&args[..1]).unwrap_or_else(|| invalid());
            log(
                "29;1m",
                &format!(
                    ">>> Adding node {}:{} to cluster {}:{}\n",
                    ip, port, rip, rport
                ),
            );
            load_node(cfg, &rip, rport);
        }
        "del-node" => {
            let (ip, port) = host_from_args(&args[..1]).unwrap_or_else(|| invalid());
            log(
                "29;1m",
                &format!(
                    ">>> Removing node {} from cluster {}:{}\n",
                    args[1], ip, port
                ),
            );
            load_node(cfg, &ip, port);
        }
        "set-timeout" => {
            let (ip, port) = host_from_args(&args[..1]).unwrap_or_else(|| invalid());
            if atoi32(&args[1]) < 100 {
                err_str("Setting a node timeout of less than 100 milliseconds is a bad idea.\n");
                exit(1);
            }
            load_node(cfg, &ip, port);
        }
        "import" => {
            let (ip, port) = host_from_args(args).unwrap_or_else(|| invalid());
            let Some(from) = &cfg.cluster_from else {
                err_str("[ERR] Option '--cluster-from' is required for subcommand 'import'.\n");
                exit(1);
            };
            let Some((sip, sport)) = host_from_args(std::slice::from_ref(from)) else {
                err_str("[ERR] Invalid --cluster-from host. You need to pass a valid address (ie. 120.0.0.1:7000).\n");
                exit(1);
            };
            log(
                "29;1m",
                &format!(
                    ">>> Importing data from {}:{} to cluster {}:{}\n",
                    sip, sport, ip, port
                ),
            );
            load_node(cfg, &ip, port);
        }
        _ => {
            // call, backup
            let (ip, port) = host_from_args(&args[..1]).unwrap_or_else(|| invalid());
            load_node(cfg, &ip, port);
        }
    }
    exit(1)
}
