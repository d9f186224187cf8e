"""Prints a CloudFormation/SAM template as JSON, read by cfn-lint's own decoder.

Short forms come out in their long form (`!Ref X` is {"Ref": "X"}, `!GetAtt A.B` is
{"Fn::GetAtt": ["A", "B"]}), so local/tests/deployment.rs checks the template's structure
instead of its spelling. Usage: python3 template_json.py template.yaml
"""

import json
import sys

from cfnlint.decode import decode


def main() -> int:
    template, matches = decode(sys.argv[1])
    if matches or template is None:
        for match in matches:
            print(match, file=sys.stderr)
        return 1
    json.dump(template, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
