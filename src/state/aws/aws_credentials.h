#pragma once
// AWS credentials and region, resolved in the order the AWS SDKs use.
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "core/environment.h"
#include "net/http_client.h"
#include "state/aws/sigv4.h"

namespace orc {

/// An AWS shared config or credentials file: section name -> key -> value (sub-sections of
/// nested settings such as `s3 =` are skipped).
using AwsIniFile = std::map<std::string, std::map<std::string, std::string>>;

/// Parses the INI dialect of ~/.aws/config and ~/.aws/credentials (comments '#'/';').
AwsIniFile parse_aws_ini(std::string_view text);

/// AWS_PROFILE, else AWS_DEFAULT_PROFILE, else "default".
std::string aws_profile_name(const Environment& env);

/// AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials.
std::filesystem::path aws_credentials_file(const Environment& env);
/// AWS_CONFIG_FILE, else $HOME/.aws/config.
std::filesystem::path aws_config_file(const Environment& env);

/// The settings of the active profile: its `[profile name]` section (`[default]` for the
/// default profile) in the config file, overlaid by its `[name]` section in the credentials
/// file. Missing files count as empty.
std::map<std::string, std::string> aws_profile_settings(const Environment& env);

/// AWS_REGION, else AWS_DEFAULT_REGION, else the profile's `region`, else "us-east-1".
std::string resolve_aws_region(const Environment& env);

/// The first credentials found, in the SDKs' order:
///  1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) from the environment;
///  2. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (or the profile's
///     web_identity_token_file + role_arn) exchanged with STS AssumeRoleWithWebIdentity
///     (endpoint AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL, else the regional STS endpoint);
///  3. the profile's keys in the shared credentials file, then in the config file;
///  4. the ECS container endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI, with
///     AWS_CONTAINER_AUTHORIZATION_TOKEN / _TOKEN_FILE);
///  5. EC2 instance metadata with an IMDSv2 token (unless AWS_EC2_METADATA_DISABLED=true;
///     endpoint AWS_EC2_METADATA_SERVICE_ENDPOINT, default http://169.254.169.254).
/// Throws orc::Error naming the failing link, or listing every link when none has keys.
/// Messages never contain a secret or a token.
AwsCredentials resolve_aws_credentials(const Environment& env, const HttpSender& send);

/// The text of the first <tag>...</tag> in an XML document ("" when absent), unescaped.
std::string xml_tag_text(std::string_view xml, std::string_view tag);

}  // namespace orc
