//! template.yaml as CloudFormation would see it at deploy time: read as JSON by cfn-lint's own
//! decoder (local/tests/template_json.py), with its parameters (defaults, or the values a test
//! sets) and the intrinsic functions our template uses resolved. Anything else fails loudly,
//! so the artifact test never runs a function with an environment it made up.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::{Map, Value};

pub struct Template {
    doc: Value,
    stack: String,
    region: String,
    parameters: HashMap<String, String>,
}

/// The dispatch schedule as the template declares it.
pub struct Schedule {
    pub name: String,
    pub expression: String,
    /// The Input the schedule sends the dispatch function.
    pub input: Value,
}

impl Template {
    pub fn load(stack: &str, region: &str) -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
        let output = Command::new("python3")
            .arg(root.join("local/tests/template_json.py"))
            .arg(root.join("template.yaml"))
            .output()
            .expect("python3 runs (the tests' venv has cfn-lint: run scripts/test)");
        assert!(output.status.success(), "template_json.py: {}", String::from_utf8_lossy(&output.stderr));
        let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
        let parameters = doc["Parameters"]
            .as_object()
            .unwrap()
            .iter()
            .filter_map(|(name, spec)| Some((name.clone(), scalar(spec.get("Default")?))))
            .collect();
        Self { doc, stack: stack.into(), region: region.into(), parameters }
    }

    pub fn set_parameter(&mut self, name: &str, value: &str) {
        assert!(self.doc["Parameters"].get(name).is_some(), "template.yaml has no parameter {name}");
        self.parameters.insert(name.into(), value.into());
    }

    fn function(&self, logical_id: &str) -> &Map<String, Value> {
        let resource = &self.doc["Resources"][logical_id];
        assert_eq!(resource["Type"], "AWS::Serverless::Function", "{logical_id}");
        resource["Properties"].as_object().unwrap()
    }

    /// A function property, or the Globals' one.
    fn function_property(&self, logical_id: &str, name: &str) -> Option<Value> {
        self.function(logical_id).get(name).or_else(|| self.doc["Globals"]["Function"].get(name)).cloned()
    }

    /// The environment variables the template gives a function (Globals, then its own).
    pub fn environment(&self, logical_id: &str) -> Vec<(String, String)> {
        let mut variables = Map::new();
        for source in [&self.doc["Globals"]["Function"], &Value::Object(self.function(logical_id).clone())] {
            if let Some(own) = source["Environment"]["Variables"].as_object() {
                variables.extend(own.clone());
            }
        }
        variables.iter().map(|(name, value)| (name.clone(), self.resolve(value))).collect()
    }

    pub fn timeout(&self, logical_id: &str) -> Duration {
        let value = self.function_property(logical_id, "Timeout").unwrap_or(Value::from(3));
        Duration::from_secs(self.resolve(&value).parse().unwrap())
    }

    pub fn memory_size(&self, logical_id: &str) -> u32 {
        let value = self.function_property(logical_id, "MemorySize").unwrap_or(Value::from(128));
        self.resolve(&value).parse().unwrap()
    }

    /// The physical name CloudFormation gives a function (what `!Ref` of it returns).
    pub fn function_name(&self, logical_id: &str) -> String {
        format!("{}-{logical_id}", self.stack)
    }

    pub fn schedule(&self) -> Schedule {
        let (_, resource) = self.doc["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(_, resource)| resource["Type"] == "AWS::Scheduler::Schedule")
            .expect("template.yaml has an EventBridge Scheduler schedule");
        let properties = &resource["Properties"];
        Schedule {
            name: self.resolve(&properties["Name"]),
            expression: self.resolve(&properties["ScheduleExpression"]),
            input: serde_json::from_str(&self.resolve(&properties["Target"]["Input"])).unwrap(),
        }
    }

    /// A value with the intrinsic functions our template uses resolved.
    pub fn resolve(&self, value: &Value) -> String {
        let Some(object) = value.as_object() else {
            return scalar(value);
        };
        let (function, argument) = object.iter().next().unwrap();
        assert_eq!(object.len(), 1, "not an intrinsic function: {value}");
        match function.as_str() {
            "Ref" => self.reference(argument.as_str().unwrap()),
            "Fn::Sub" => self.substitute(argument.as_str().expect("Fn::Sub of a plain string")),
            "Fn::FindInMap" => {
                let keys: Vec<String> =
                    argument.as_array().unwrap().iter().map(|key| self.resolve(key)).collect();
                scalar(&self.doc["Mappings"][&keys[0]][&keys[1]][&keys[2]])
            }
            "Fn::If" => {
                let branches = argument.as_array().unwrap();
                let chosen =
                    if self.condition(branches[0].as_str().unwrap()) { &branches[1] } else { &branches[2] };
                self.resolve(chosen)
            }
            "Fn::GetAtt" => {
                let parts = argument.as_array().unwrap();
                format!("arn:aws:lambda:{}:123456789012:function:{}", self.region, scalar(&parts[0]))
            }
            other => panic!("the artifact test does not resolve {other} (in {value})"),
        }
    }

    fn reference(&self, name: &str) -> String {
        match name {
            "AWS::StackName" => self.stack.clone(),
            "AWS::Region" => self.region.clone(),
            "AWS::AccountId" => "123456789012".into(),
            "AWS::Partition" => "aws".into(),
            "AWS::URLSuffix" => "amazonaws.com".into(),
            _ if self.parameters.contains_key(name) => self.parameters[name].clone(),
            _ if self.doc["Parameters"].get(name).is_some() => {
                panic!("parameter {name} has no default: set it")
            }
            _ if self.doc["Resources"][name]["Type"] == "AWS::Serverless::Function" => {
                self.function_name(name)
            }
            _ if self.doc["Resources"].get(name).is_some() => format!("{}-{name}", self.stack),
            _ => panic!("!Ref {name}: no such parameter or resource"),
        }
    }

    fn substitute(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').unwrap() + start;
            out.push_str(&self.reference(&rest[start + 2..end]));
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }

    fn condition(&self, name: &str) -> bool {
        self.evaluate(&self.doc["Conditions"][name])
    }

    fn evaluate(&self, condition: &Value) -> bool {
        let object = condition.as_object().unwrap_or_else(|| panic!("not a condition: {condition}"));
        let (function, argument) = object.iter().next().unwrap();
        let arguments = argument.as_array();
        match function.as_str() {
            "Fn::Equals" => {
                let pair = arguments.unwrap();
                self.resolve_or_join(&pair[0]) == self.resolve_or_join(&pair[1])
            }
            "Fn::Not" => !self.evaluate(&arguments.unwrap()[0]),
            "Fn::And" => arguments.unwrap().iter().all(|c| self.evaluate(c)),
            "Fn::Or" => arguments.unwrap().iter().any(|c| self.evaluate(c)),
            "Condition" => self.condition(argument.as_str().unwrap()),
            other => panic!("the artifact test does not evaluate {other}"),
        }
    }

    /// Conditions compare strings, or a `Fn::Join` of a list parameter (SubnetIds).
    fn resolve_or_join(&self, value: &Value) -> String {
        match value.get("Fn::Join") {
            Some(join) => {
                let list = self.resolve(&join[1]);
                list.split(',').collect::<Vec<_>>().join(join[0].as_str().unwrap())
            }
            None => self.resolve(value),
        }
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => items.iter().map(scalar).collect::<Vec<_>>().join(","),
        other => panic!("not a scalar: {other}"),
    }
}
