#include "stores/cloud/aws_credentials.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fmt/format.h>
#include <simdjson.h>
#include <sstream>

#include "core/environment.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/log.h"
#include "stores/cloud/http_client.h"
#include "stores/cloud/xml_text.h"

namespace orc::remote {
namespace fs = std::filesystem;

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

fs::path aws_file(const Environment& env, const char* var, const char* name) {
  if (auto p = env.get_nonempty(var)) return fs::path(*p);
  return fs::path(env.get_nonempty("HOME").value_or("")) / ".aws" / name;
}

std::optional<IniFile> read_ini(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  return parse_ini(read_file(path));
}

/// The profile's section: `[name]` in the credentials file; `[profile name]` (or `[default]`)
/// in the config file.
const std::map<std::string, std::string>* profile_section(const IniFile& ini,
                                                          const std::string& profile,
                                                          bool config_file) {
  std::vector<std::string> names;
  if (config_file) {
    names.push_back("profile " + profile);
    if (profile == "default") names.push_back("default");
  } else {
    names.push_back(profile);
  }
  for (const auto& n : names) {
    auto it = ini.find(n);
    if (it != ini.end()) return &it->second;
  }
  return nullptr;
}

std::optional<AwsCredentials> from_section(const std::map<std::string, std::string>& s,
                                           const std::string& source) {
  auto id = s.find("aws_access_key_id");
  auto secret = s.find("aws_secret_access_key");
  if (id == s.end() || secret == s.end() || id->second.empty() || secret->second.empty())
    return std::nullopt;
  AwsCredentials c{id->second, secret->second, "", source};
  if (auto t = s.find("aws_session_token"); t != s.end()) c.session_token = t->second;
  return c;
}

/// AccessKeyId/SecretAccessKey/Token from an ECS or IMDS JSON document.
std::optional<AwsCredentials> from_json(const std::string& text, const std::string& source) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc)) return std::nullopt;
  std::string_view id, secret, token;
  if (doc["AccessKeyId"].get(id) || doc["SecretAccessKey"].get(secret)) return std::nullopt;
  if (doc["Token"].get(token)) token = {};
  return AwsCredentials{std::string(id), std::string(secret), std::string(token), source};
}

std::optional<AwsCredentials> web_identity(const Environment& env, const std::string& purpose) {
  auto token_file = env.get_nonempty("AWS_WEB_IDENTITY_TOKEN_FILE");
  auto role = env.get_nonempty("AWS_ROLE_ARN");
  if (!token_file || !role) return std::nullopt;
  std::string token = trim(read_file(*token_file));
  std::string session = env.get_nonempty("AWS_ROLE_SESSION_NAME").value_or("orc-session");
  std::string endpoint = env.get_nonempty("AWS_ENDPOINT_URL_STS")
                             .value_or(env.get_nonempty("AWS_ENDPOINT_URL").value_or(
                                 fmt::format("https://sts.{}.amazonaws.com",
                                             resolve_aws_region(env))));
  HttpRequest req;
  req.method = "POST";
  req.url = endpoint;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  req.body = fmt::format(
      "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn={}&RoleSessionName={}&"
      "WebIdentityToken={}",
      aws_uri_encode(*role, false), aws_uri_encode(session, false), aws_uri_encode(token, false));
  req.connect_timeout_ms = 5000;
  req.total_timeout_ms = 20000;
  HttpResponse r = http_perform(req);
  AwsCredentials c{xml_element_text(r.body, "AccessKeyId"), xml_element_text(r.body, "SecretAccessKey"),
                   xml_element_text(r.body, "SessionToken"), "web identity (STS " + endpoint + ")"};
  if (!r.ok() || c.access_key_id.empty() || c.secret_access_key.empty()) {
    std::string why = r.status ? fmt::format("HTTP {} {}", r.status, xml_element_text(r.body, "Code"))
                               : r.network_error;
    throw Error(fmt::format("cannot get AWS credentials for {}: STS AssumeRoleWithWebIdentity "
                            "for role {} at {} failed ({})",
                            purpose, *role, endpoint, why));
  }
  return c;
}

std::optional<AwsCredentials> ecs_container(const Environment& env, const std::string& purpose) {
  std::string url;
  if (auto rel = env.get_nonempty("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"))
    url = "http://169.254.170.2" + *rel;
  else if (auto full = env.get_nonempty("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
    url = *full;
  else
    return std::nullopt;
  HttpRequest req;
  req.url = url;
  req.connect_timeout_ms = 2000;
  req.total_timeout_ms = 5000;
  if (auto tok = env.get_nonempty("AWS_CONTAINER_AUTHORIZATION_TOKEN"))
    req.headers.emplace_back("Authorization", *tok);
  else if (auto tf = env.get_nonempty("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"))
    req.headers.emplace_back("Authorization", trim(read_file(*tf)));
  HttpResponse r = http_perform(req);
  std::optional<AwsCredentials> c;
  if (r.ok()) c = from_json(r.body, "ECS container endpoint");
  if (!c)
    throw Error(fmt::format("cannot get AWS credentials for {} from the container endpoint {} ({})",
                            purpose, url,
                            r.status ? fmt::format("HTTP {}", r.status) : r.network_error));
  return c;
}

std::optional<AwsCredentials> instance_metadata(const Environment& env) {
  std::string disabled = env.get_nonempty("AWS_EC2_METADATA_DISABLED").value_or("");
  std::transform(disabled.begin(), disabled.end(), disabled.begin(), ::tolower);
  if (disabled == "true") return std::nullopt;
  std::string base =
      env.get_nonempty("AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or("http://169.254.169.254");
  while (!base.empty() && base.back() == '/') base.pop_back();
  HttpRequest req;
  req.connect_timeout_ms = 1000;
  req.total_timeout_ms = 2000;
  req.method = "PUT";
  req.url = base + "/latest/api/token";
  req.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
  HttpResponse tok = http_perform(req);
  if (!tok.ok()) {
    log_debug("EC2 instance metadata not available at {} ({})", base,
              tok.status ? fmt::format("HTTP {}", tok.status) : tok.network_error);
    return std::nullopt;
  }
  req.method = "GET";
  req.headers = {{"X-aws-ec2-metadata-token", trim(tok.body)}};
  req.url = base + "/latest/meta-data/iam/security-credentials/";
  HttpResponse role = http_perform(req);
  std::string role_name = trim(role.body.substr(0, role.body.find('\n')));
  if (!role.ok() || role_name.empty()) return std::nullopt;
  req.url += role_name;
  HttpResponse creds = http_perform(req);
  if (!creds.ok()) return std::nullopt;
  return from_json(creds.body, "EC2 instance metadata (role " + role_name + ")");
}

}  // namespace

IniFile parse_ini(const std::string& text) {
  IniFile ini;
  std::string section;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      section = trim(t.substr(1, t.size() - 2));
      ini[section];
      continue;
    }
    auto eq = t.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim(t.substr(0, eq));
    std::transform(key.begin(), key.end(), key.begin(), ::tolower);
    ini[section][key] = trim(t.substr(eq + 1));
  }
  return ini;
}

std::string aws_profile_name(const Environment& env) {
  return env.get_nonempty("AWS_PROFILE").value_or("default");
}

std::string resolve_aws_region(const Environment& env) {
  if (auto r = env.get_nonempty("AWS_REGION")) return *r;
  if (auto r = env.get_nonempty("AWS_DEFAULT_REGION")) return *r;
  if (auto ini = read_ini(aws_file(env, "AWS_CONFIG_FILE", "config"))) {
    if (auto* s = profile_section(*ini, aws_profile_name(env), true)) {
      if (auto it = s->find("region"); it != s->end() && !it->second.empty()) return it->second;
    }
  }
  return "us-east-1";
}

std::optional<AwsCredentials> static_aws_credentials(const Environment& env) {
  auto id = env.get_nonempty("AWS_ACCESS_KEY_ID");
  auto secret = env.get_nonempty("AWS_SECRET_ACCESS_KEY");
  if (id && secret)
    return AwsCredentials{*id, *secret, env.get_nonempty("AWS_SESSION_TOKEN").value_or(""),
                          "environment variables"};
  std::string profile = aws_profile_name(env);
  fs::path cred_path = aws_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
  if (auto ini = read_ini(cred_path)) {
    if (auto* s = profile_section(*ini, profile, false))
      if (auto c = from_section(*s, fmt::format("profile {} in {}", profile, cred_path.string())))
        return c;
  }
  fs::path config_path = aws_file(env, "AWS_CONFIG_FILE", "config");
  if (auto ini = read_ini(config_path)) {
    if (auto* s = profile_section(*ini, profile, true))
      if (auto c = from_section(*s, fmt::format("profile {} in {}", profile, config_path.string())))
        return c;
  }
  return std::nullopt;
}

AwsCredentials resolve_aws_credentials(const Environment& env, const std::string& purpose) {
  std::optional<AwsCredentials> c = static_aws_credentials(env);
  if (!c) c = web_identity(env, purpose);
  if (!c) c = ecs_container(env, purpose);
  if (!c) c = instance_metadata(env);
  if (!c) {
    throw Error(fmt::format(
        "no AWS credentials found for {}: tried AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
        "profile {} in {} and {}, AWS_WEB_IDENTITY_TOKEN_FILE+AWS_ROLE_ARN, the ECS container "
        "endpoint and EC2 instance metadata",
        purpose, aws_profile_name(env),
        aws_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials").string(),
        aws_file(env, "AWS_CONFIG_FILE", "config").string()));
  }
  log_debug("AWS credentials for {} from {}", purpose, c->source);
  return *c;
}

}  // namespace orc::remote
