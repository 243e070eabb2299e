#pragma once
// AWS credentials and region, resolved in the order the AWS SDKs use.
#include <map>
#include <optional>
#include <string>

#include "stores/cloud/aws_sigv4.h"

namespace orc {
struct Environment;
}

namespace orc::remote {

/// An INI file as {section: {key: value}} (the shared config/credentials file format).
using IniFile = std::map<std::string, std::map<std::string, std::string>>;
IniFile parse_ini(const std::string& text);

/// The profile in use: AWS_PROFILE, else "default".
std::string aws_profile_name(const Environment& env);

/// Region: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in the config file, else
/// "us-east-1".
std::string resolve_aws_region(const Environment& env);

/// Credentials, first found wins:
///  1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
///  2. the profile in AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials), then in
///     AWS_CONFIG_FILE (~/.aws/config, `[profile name]` sections);
///  3. AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN via STS AssumeRoleWithWebIdentity
///     (endpoint AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL, else sts.{region}.amazonaws.com);
///  4. the ECS container endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI);
///  5. EC2 instance metadata with an IMDSv2 token (unless AWS_EC2_METADATA_DISABLED=true;
///     endpoint AWS_EC2_METADATA_SERVICE_ENDPOINT).
/// A provider that is configured but fails (3, 4) is an error; none found is an error that
/// lists what was tried. `purpose` (e.g. "s3://b/k") is named in messages.
AwsCredentials resolve_aws_credentials(const Environment& env, const std::string& purpose);

/// Steps 1-2 only (no network): credentials from env vars or the profile files.
std::optional<AwsCredentials> static_aws_credentials(const Environment& env);

}  // namespace orc::remote
