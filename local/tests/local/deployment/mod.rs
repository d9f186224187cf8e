//! The SAM template passes cfn-lint (PyPI), and declares what the deployment promises.
//!
//! The template is read through cfn-lint's own YAML decoder (local/tests/template_json.py), so
//! the checks look at its structure (`!Ref X` is `{"Ref": "X"}`), not at its spelling. This
//! module holds the readers; the checks are in its children, by concern.

mod functions;
mod operations;
mod permissions;
mod settings;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

fn template_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn template() -> PathBuf {
    template_dir().join("template.yaml")
}

/// The Python cfn-lint runs on (the venv scripts/test puts on PATH), else `python3`.
fn python() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .find(|dir| dir.join("cfn-lint").is_file())
        .map(|dir| dir.join("python3"))
        .filter(|python| python.is_file())
        .unwrap_or_else(|| "python3".into())
}

/// template.yaml as cfn-lint decodes it.
fn parsed() -> Value {
    let helper = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/template_json.py");
    let mut decode = Command::new(python());
    decode.arg(helper);
    serde_json::from_slice(&run_on_template(decode, "cfn-lint's decoder")).unwrap()
}

/// Runs `command` on template.yaml and returns what it printed; fails the test with all it
/// printed unless it succeeds.
fn run_on_template(mut command: Command, what: &str) -> Vec<u8> {
    let output = command.arg(template()).output().unwrap_or_else(|err| {
        panic!("cannot run {what} ({err}): run the tests with scripts/test, which installs cfn-lint")
    });
    assert!(
        output.status.success(),
        "{what} on template.yaml:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Does `pattern` (a parameter's AllowedPattern) match the whole of `value`, as CloudFormation checks it?
fn fully_matches(pattern: &str, value: &str) -> bool {
    Command::new(python())
        .args(["-c", "import re, sys; sys.exit(0 if re.fullmatch(sys.argv[1], sys.argv[2]) else 1)"])
        .args([pattern, value])
        .status()
        .unwrap()
        .success()
}

fn reference(name: &str) -> Value {
    json!({ "Ref": name })
}

fn resources_of_type<'a>(template: &'a Value, kind: &str) -> BTreeMap<&'a str, &'a Value> {
    template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, resource)| resource["Type"] == kind)
        .map(|(name, resource)| (name.as_str(), resource))
        .collect()
}

fn functions(template: &Value) -> BTreeMap<&str, &Value> {
    let functions = resources_of_type(template, "AWS::Serverless::Function");
    assert_eq!(
        functions.keys().copied().collect::<Vec<_>>(),
        ["ApiFunction", "DispatchFunction", "MigrateFunction"]
    );
    functions
}

/// Every statement of a function's inline policies.
fn statements(function: &Value) -> Vec<&Value> {
    function["Properties"]["Policies"]
        .as_array()
        .map(|policies| policies.iter().flat_map(|policy| policy["Statement"].as_array().unwrap()).collect())
        .unwrap_or_default()
}

/// The few intrinsic functions the template's conditional values use, evaluated for `values`
/// (parameters not given take their Default).
fn evaluate(template: &Value, value: &Value, values: &BTreeMap<&str, &str>) -> Value {
    let parameter = |name: &str| -> String {
        values.get(name).map(|v| (*v).to_owned()).unwrap_or_else(|| {
            match &template["Parameters"][name]["Default"] {
                Value::String(text) => text.clone(),
                Value::Null => panic!("no value for the parameter {name}"),
                other => other.to_string(),
            }
        })
    };
    let Some(object) = value.as_object() else { return value.clone() };
    if object.len() != 1 {
        return value.clone();
    }
    let (function, argument) = object.iter().next().unwrap();
    let evaluated = |v: &Value| evaluate(template, v, values);
    match function.as_str() {
        "Ref" => Value::String(parameter(argument.as_str().unwrap())),
        "Fn::Equals" => Value::Bool(evaluated(&argument[0]) == evaluated(&argument[1])),
        "Fn::Not" => Value::Bool(evaluated(&argument[0]) == Value::Bool(false)),
        "Fn::If" => {
            let condition = &template["Conditions"][argument[0].as_str().unwrap()];
            if evaluated(condition) == Value::Bool(true) {
                evaluated(&argument[1])
            } else {
                evaluated(&argument[2])
            }
        }
        "Fn::Sub" => {
            let mut text = argument.as_str().unwrap().to_owned();
            while let Some(start) = text.find("${") {
                let end = start + text[start..].find('}').unwrap();
                text.replace_range(start..=end, &parameter(&text[start + 2..end]));
            }
            Value::String(text)
        }
        _ => value.clone(),
    }
}
