"""Prepares a running MiniStack (AUTH=true) for the Secrets Manager credential tests and prints
shell `export` lines for them.

Creates five IAM users with access keys: `secret-reader` (may call secretsmanager:GetSecretValue),
`memory-user` (may call the AgentCore Memory data plane), `deployer` (ECR, the runtime control plane
and InvokeAgentRuntime: what `strands-runtime deploy` and `invoke` need), `ecr-pusher` (ECR only) and `no-access` (may do neither; the S3
session and Memory tests also use it for access-denied errors). Secrets and buckets are created by
each test with the root key; one AgentCore Memory is created here (MINISTACK_MEMORY_ID).
Usage: python bootstrap.py ENDPOINT
"""

import json
import sys

import boto3

endpoint = sys.argv[1]
root = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
iam = boto3.client("iam", **root)

exports = {"MINISTACK_ENDPOINT": endpoint}
for user, actions, prefix in [
    ("secret-reader", ["secretsmanager:GetSecretValue"], "MINISTACK_READER"),
    ("memory-user", ["bedrock-agentcore:CreateEvent", "bedrock-agentcore:ListEvents", "bedrock-agentcore:DeleteEvent",
                     "bedrock-agentcore:GetEvent", "bedrock-agentcore:RetrieveMemoryRecords"], "MINISTACK_MEMORY_USER"),
    ("deployer", ["ecr:*", "bedrock-agentcore:CreateAgentRuntime", "bedrock-agentcore:UpdateAgentRuntime",
                  "bedrock-agentcore:GetAgentRuntime", "bedrock-agentcore:DeleteAgentRuntime",
                  "bedrock-agentcore:ListAgentRuntimes", "bedrock-agentcore:InvokeAgentRuntime",
                  "iam:PassRole"], "MINISTACK_DEPLOYER"),
    ("ecr-pusher", ["ecr:*"], "MINISTACK_PUSHER"),
    ("no-access", ["sts:GetCallerIdentity"], "MINISTACK_NO_ACCESS"),
]:
    iam.create_user(UserName=user)
    iam.put_user_policy(
        UserName=user,
        PolicyName="test-policy",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}),
    )
    key = iam.create_access_key(UserName=user)["AccessKey"]
    exports[f"{prefix}_KEY_ID"] = key["AccessKeyId"]
    exports[f"{prefix}_SECRET"] = key["SecretAccessKey"]

control = boto3.client("bedrock-agentcore-control", **root)
memory = control.create_memory(name="strands_tests", eventExpiryDuration=7)["memory"]
exports["MINISTACK_MEMORY_ID"] = memory["id"]

for name, value in exports.items():
    print(f"export {name}={value}")
