//! One list of settings: the variables the code reads are exactly the rows of docs/design.md's
//! settings table, each is set by template.yaml or kept off the deployment for a reason given
//! here, and template.yaml's parameters are exactly the rows of design.md's parameter table. A
//! setting added in one place and not the others fails here.

use std::cell::RefCell;
use std::collections::BTreeSet;

use dispatcher_core::config::REFUSED;
use dispatcher_core::telemetry::{FILTER_VARIABLE, FORMAT_VARIABLE};
use dispatcher_core::Config;
use serde_json::Value;

use super::{functions, parsed, template_dir};

/// Settings the deployment does not set, and why.
const NOT_DEPLOYED: &[(&str, &str)] = &[
    ("DATABASE_URL", "the functions read the database from DATABASE_SECRET_ARN"),
    ("DB_HOST", "the secret holds the host"),
    ("DB_PORT", "the secret holds the port"),
    ("DB_USER", "the secret holds the user"),
    ("DB_PASSWORD", "the secret holds the password; never in the environment"),
    ("DB_NAME", "the secret holds the database name"),
    ("REDIS_HOST", "the deployment passes REDIS_URL"),
    ("REDIS_PORT", "the deployment passes REDIS_URL"),
    ("MESSAGE_INTERVAL_SECONDS", "the local harness's period; the schedule runs in minutes"),
    ("LOG_FORMAT", "JSON is detected on Lambda"),
];

/// Every variable `Config` asks for: with nothing set, and with the settings set that make it
/// look further (a database host, a Redis host).
fn read_by_config() -> BTreeSet<String> {
    let read = RefCell::new(BTreeSet::new());
    for given in [&[][..], &[("DB_HOST", "db.internal"), ("REDIS_HOST", "cache.internal")]] {
        let lookup = |var: &str| {
            read.borrow_mut().insert(var.to_owned());
            given.iter().find(|(name, _)| *name == var).map(|(_, value)| (*value).to_owned())
        };
        Config::from_lookup(lookup).expect("the defaults are valid");
    }
    let mut read = read.into_inner();
    read.extend([FILTER_VARIABLE, FORMAT_VARIABLE].map(str::to_owned));
    for refused in REFUSED {
        read.remove(*refused);
    }
    read
}

/// The first column of the markdown table under `heading` in docs/design.md, each cell split at
/// commas, backticks dropped.
fn design_table(heading: &str) -> BTreeSet<String> {
    let design = std::fs::read_to_string(template_dir().join("docs/design.md")).unwrap();
    let section =
        design.split(&format!("\n{heading}\n")).nth(1).unwrap_or_else(|| panic!("{heading} in design.md"));
    let rows =
        section.lines().skip_while(|line| !line.starts_with('|')).take_while(|line| line.starts_with('|'));
    rows.skip(2) // the header and its rule
        .filter_map(|row| row.split('|').nth(1))
        .flat_map(|cell| {
            cell.split(',').map(|name| name.trim().trim_matches('`').to_owned()).collect::<Vec<_>>()
        })
        .collect()
}

/// The variables template.yaml gives the functions (Globals and each function).
fn deployed() -> BTreeSet<String> {
    let template = parsed();
    let variables = |function: &Value| -> Vec<String> {
        function["Environment"]["Variables"]
            .as_object()
            .map(|vars| vars.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut deployed: BTreeSet<String> = variables(&template["Globals"]["Function"]).into_iter().collect();
    for function in functions(&template).values() {
        deployed.extend(variables(&function["Properties"]));
    }
    deployed
}

#[test]
fn the_settings_the_code_reads_are_the_settings_table_of_design_md() {
    let read = read_by_config();
    let documented = design_table("## Configuration");
    assert_eq!(
        documented.difference(&read).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "in design.md's settings table but never read"
    );
    assert_eq!(
        read.difference(&documented).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "read but not in design.md's table"
    );
}

#[test]
fn template_yaml_sets_every_setting_but_those_kept_off_the_deployment_and_nothing_else() {
    let read = read_by_config();
    let deployed = deployed();
    let kept_off: BTreeSet<String> = NOT_DEPLOYED.iter().map(|(name, _)| (*name).to_owned()).collect();
    assert_eq!(
        deployed.difference(&read).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "set by template.yaml, read by no one"
    );
    assert_eq!(
        kept_off.difference(&read).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "kept off, but no longer read"
    );
    assert_eq!(
        deployed.intersection(&kept_off).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "both set and kept off"
    );
    let missing: Vec<&String> =
        read.iter().filter(|var| !deployed.contains(*var) && !kept_off.contains(*var)).collect();
    assert_eq!(
        missing,
        Vec::<&String>::new(),
        "read, but neither set by template.yaml nor kept off (NOT_DEPLOYED)"
    );
}

#[test]
fn the_parameters_of_template_yaml_are_the_parameter_table_of_design_md() {
    let template = parsed();
    let parameters: BTreeSet<String> = template["Parameters"].as_object().unwrap().keys().cloned().collect();
    let documented = design_table("## Deploy (template.yaml)");
    assert_eq!(parameters, documented);
}
