#include "state/aws/aws_credentials.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fmt/format.h>
#include <simdjson.h>
#include <system_error>

#include "core/error.h"
#include "core/file_io.h"
#include "core/log.h"

namespace orc {
namespace fs = std::filesystem;
namespace {

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

AwsIniFile read_ini_if_present(const fs::path& path) {
  std::error_code ec;
  if (path.empty() || !fs::is_regular_file(path, ec)) return {};
  return parse_aws_ini(read_file(path));
}

std::string setting(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? std::string() : it->second;
}

/// Reads AccessKeyId/SecretAccessKey/Token from a JSON credentials document (ECS, IMDS).
AwsCredentials credentials_from_json(const std::string& body, const std::string& source) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body).get(root) || !root.is_object())
    throw Error(fmt::format("AWS credentials from {}: the answer is not a JSON object", source));
  auto text = [&](const char* key) -> std::string {
    std::string_view v;
    if (root[key].get_string().get(v)) return {};
    return std::string(v);
  };
  AwsCredentials c{text("AccessKeyId"), text("SecretAccessKey"), text("Token"), source};
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    throw Error(fmt::format("AWS credentials from {}: the answer has no AccessKeyId/"
                            "SecretAccessKey",
                            source));
  return c;
}

std::string sts_endpoint(const Environment& env, const std::string& region) {
  if (auto v = env.get_nonempty("AWS_ENDPOINT_URL_STS")) return *v;
  if (auto v = env.get_nonempty("AWS_ENDPOINT_URL")) return *v;
  return fmt::format("https://sts.{}.amazonaws.com", region);
}

AwsCredentials assume_role_with_web_identity(const Environment& env, const HttpSender& send,
                                             const std::string& token_file,
                                             const std::string& role_arn,
                                             const std::string& session_name) {
  const std::string source = "web identity (STS AssumeRoleWithWebIdentity)";
  std::string token;
  try {
    token = trim(read_file(token_file));
  } catch (const Error&) {
    throw Error(fmt::format("AWS credentials from {}: cannot read the token file {}", source,
                            token_file));
  }
  HttpRequest req;
  req.method = "POST";
  req.url = sts_endpoint(env, resolve_aws_region(env));
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "*/*"}};
  req.body = fmt::format(
      "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn={}&RoleSessionName={}&"
      "WebIdentityToken={}",
      uri_encode(role_arn, true), uri_encode(session_name, true), uri_encode(token, true));
  HttpResponse resp;
  try {
    resp = send(req);
  } catch (const NetworkError& e) {
    throw Error(fmt::format("AWS credentials from {}: cannot reach STS at {}: {}", source,
                            req.url, e.what()));
  }
  if (resp.status != 200) {
    throw Error(fmt::format("AWS credentials from {}: STS at {} answered HTTP {} {}: {} "
                            "(role {})",
                            source, req.url, resp.status, xml_tag_text(resp.body, "Code"),
                            xml_tag_text(resp.body, "Message"), role_arn));
  }
  AwsCredentials c{xml_tag_text(resp.body, "AccessKeyId"),
                   xml_tag_text(resp.body, "SecretAccessKey"),
                   xml_tag_text(resp.body, "SessionToken"), source};
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    throw Error(fmt::format("AWS credentials from {}: STS answer has no credentials", source));
  return c;
}

bool is_loopback_or_ecs_host(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "[::1]" ||
         host == "169.254.170.2" || host == "169.254.170.23" || host == "[fd00:ec2::23]";
}

std::optional<AwsCredentials> container_credentials(const Environment& env,
                                                    const HttpSender& send) {
  const std::string source = "the ECS container credentials endpoint";
  std::string url;
  if (auto rel = env.get_nonempty("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    url = "http://169.254.170.2" + *rel;
  } else if (auto full = env.get_nonempty("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    UrlParts p = split_url(*full, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    // The SDKs accept plain http only to the container agent or loopback.
    if (p.scheme == "http" && !is_loopback_or_ecs_host(p.host))
      throw Error(fmt::format("AWS_CONTAINER_CREDENTIALS_FULL_URI {} must use https or a "
                              "loopback/ECS host",
                              *full));
    url = *full;
  } else {
    return std::nullopt;
  }
  HttpRequest req;
  req.url = url;
  req.timeout_ms = 5000;
  req.connect_timeout_ms = 2000;
  std::string auth;
  if (auto file = env.get_nonempty("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    auth = trim(read_file(*file));
  } else if (auto tok = env.get_nonempty("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    auth = *tok;
  }
  if (!auth.empty()) req.headers.emplace_back("Authorization", auth);
  HttpResponse resp;
  try {
    resp = send(req);
  } catch (const NetworkError& e) {
    throw Error(fmt::format("AWS credentials from {} ({}): {}", source, url, e.what()));
  }
  if (resp.status != 200)
    throw Error(fmt::format("AWS credentials from {} ({}): HTTP {}", source, url, resp.status));
  return credentials_from_json(resp.body, source);
}

std::optional<AwsCredentials> instance_metadata_credentials(const Environment& env,
                                                            const HttpSender& send) {
  if (auto off = env.get_nonempty("AWS_EC2_METADATA_DISABLED")) {
    std::string v = *off;
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
    if (v == "true") return std::nullopt;
  }
  std::string base = env.get_nonempty("AWS_EC2_METADATA_SERVICE_ENDPOINT")
                         .value_or("http://169.254.169.254");
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string source = "EC2 instance metadata (IMDSv2)";
  // The SDKs give the metadata service one second: off EC2 nothing answers.
  auto request = [&](const std::string& method, const std::string& path) {
    HttpRequest r;
    r.method = method;
    r.url = base + path;
    r.timeout_ms = 1000;
    r.connect_timeout_ms = 1000;
    return r;
  };
  try {
    HttpRequest tok = request("PUT", "/latest/api/token");
    tok.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "21600");
    HttpResponse t = send(tok);
    if (t.status != 200) {
      log_debug("AWS credentials: {} token request answered HTTP {}", source, t.status);
      return std::nullopt;
    }
    const std::string token = trim(t.body);
    HttpRequest list = request("GET", "/latest/meta-data/iam/security-credentials/");
    list.headers.emplace_back("X-aws-ec2-metadata-token", token);
    HttpResponse roles = send(list);
    if (roles.status != 200) {
      log_debug("AWS credentials: {} has no instance role (HTTP {})", source, roles.status);
      return std::nullopt;
    }
    std::string role = trim(roles.body.substr(0, roles.body.find('\n')));
    if (role.empty()) return std::nullopt;
    HttpRequest get = request("GET", "/latest/meta-data/iam/security-credentials/" + role);
    get.headers.emplace_back("X-aws-ec2-metadata-token", token);
    HttpResponse creds = send(get);
    if (creds.status != 200)
      throw Error(fmt::format("AWS credentials from {}: role {} answered HTTP {}", source, role,
                              creds.status));
    return credentials_from_json(creds.body, source + " role " + role);
  } catch (const NetworkError& e) {
    log_debug("AWS credentials: {} not reachable at {}: {}", source, base, e.what());
    return std::nullopt;
  }
}

}  // namespace

AwsIniFile parse_aws_ini(std::string_view text) {
  AwsIniFile out;
  std::string section;
  bool in_section = false;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? text.size() - pos
                                                                         : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    std::string line = trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trim(line.substr(1, line.size() - 2));
      in_section = true;
      out[section];
      continue;
    }
    // Indented lines continue a nested setting (e.g. `s3 =` then `  addressing_style = path`).
    if (!raw.empty() && (raw[0] == ' ' || raw[0] == '\t')) continue;
    auto eq = line.find('=');
    if (!in_section || eq == std::string::npos) continue;
    std::string key = trim(line.substr(0, eq));
    std::string value = trim(line.substr(eq + 1));
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out[section][key] = value;
  }
  return out;
}

std::string aws_profile_name(const Environment& env) {
  if (auto v = env.get_nonempty("AWS_PROFILE")) return *v;
  if (auto v = env.get_nonempty("AWS_DEFAULT_PROFILE")) return *v;
  return "default";
}

fs::path aws_credentials_file(const Environment& env) {
  if (auto v = env.get_nonempty("AWS_SHARED_CREDENTIALS_FILE")) return *v;
  if (auto home = env.get_nonempty("HOME")) return fs::path(*home) / ".aws" / "credentials";
  return {};
}

fs::path aws_config_file(const Environment& env) {
  if (auto v = env.get_nonempty("AWS_CONFIG_FILE")) return *v;
  if (auto home = env.get_nonempty("HOME")) return fs::path(*home) / ".aws" / "config";
  return {};
}

namespace {

/// The profile's sections, kept apart: the SDKs look for keys in the credentials file first.
struct ProfileSections {
  std::map<std::string, std::string> config;       ///< [profile name] / [default] in config
  std::map<std::string, std::string> credentials;  ///< [name] in credentials
  bool found = false;
};

ProfileSections profile_sections(const Environment& env) {
  const std::string name = aws_profile_name(env);
  ProfileSections p;
  AwsIniFile config = read_ini_if_present(aws_config_file(env));
  for (const std::string& section :
       {name == "default" ? std::string("default") : std::string(), "profile " + name}) {
    if (section.empty()) continue;
    if (auto it = config.find(section); it != config.end()) {
      p.found = true;
      for (const auto& [k, v] : it->second) p.config[k] = v;
    }
  }
  AwsIniFile creds = read_ini_if_present(aws_credentials_file(env));
  if (auto it = creds.find(name); it != creds.end()) {
    p.found = true;
    p.credentials = it->second;
  }
  return p;
}

}  // namespace

std::map<std::string, std::string> aws_profile_settings(const Environment& env) {
  ProfileSections p = profile_sections(env);
  std::map<std::string, std::string> merged = p.config;
  for (const auto& [k, v] : p.credentials) merged[k] = v;
  return merged;
}

std::string resolve_aws_region(const Environment& env) {
  if (auto v = env.get_nonempty("AWS_REGION")) return *v;
  if (auto v = env.get_nonempty("AWS_DEFAULT_REGION")) return *v;
  std::string r = setting(aws_profile_settings(env), "region");
  return r.empty() ? "us-east-1" : r;
}

AwsCredentials resolve_aws_credentials(const Environment& env, const HttpSender& send) {
  // 1. Environment.
  auto key = env.get_nonempty("AWS_ACCESS_KEY_ID");
  auto secret = env.get_nonempty("AWS_SECRET_ACCESS_KEY");
  if (key || secret) {
    if (!key || !secret)
      throw Error(fmt::format("AWS credentials from the environment are partial: {} is set but "
                              "{} is not",
                              key ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                              key ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID"));
    std::string token = env.get_nonempty("AWS_SESSION_TOKEN")
                            .value_or(env.get_nonempty("AWS_SECURITY_TOKEN").value_or(""));
    return AwsCredentials{*key, *secret, token, "environment (AWS_ACCESS_KEY_ID)"};
  }

  const std::string profile = aws_profile_name(env);
  ProfileSections sections = profile_sections(env);
  std::map<std::string, std::string> merged = sections.config;
  for (const auto& [k, v] : sections.credentials) merged[k] = v;

  // 2. Web identity (environment first, then the profile).
  const std::string session_name =
      env.get_nonempty("AWS_ROLE_SESSION_NAME")
          .value_or(setting(merged, "role_session_name").empty()
                        ? fmt::format("orc-{}", std::chrono::duration_cast<std::chrono::seconds>(
                                                    std::chrono::system_clock::now()
                                                        .time_since_epoch())
                                                    .count())
                        : setting(merged, "role_session_name"));
  auto token_file = env.get_nonempty("AWS_WEB_IDENTITY_TOKEN_FILE");
  auto role_arn = env.get_nonempty("AWS_ROLE_ARN");
  if (token_file && role_arn)
    return assume_role_with_web_identity(env, send, *token_file, *role_arn, session_name);
  if (!setting(merged, "web_identity_token_file").empty() && !setting(merged, "role_arn").empty())
    return assume_role_with_web_identity(env, send, setting(merged, "web_identity_token_file"),
                                         setting(merged, "role_arn"), session_name);

  // 3. Shared credentials file, then config file.
  for (const auto* section : {&sections.credentials, &sections.config}) {
    std::string id = setting(*section, "aws_access_key_id");
    std::string sk = setting(*section, "aws_secret_access_key");
    if (id.empty() && sk.empty()) continue;
    const std::string file = (section == &sections.credentials ? aws_credentials_file(env)
                                                               : aws_config_file(env))
                                 .string();
    if (id.empty() || sk.empty())
      throw Error(fmt::format("AWS profile \"{}\" in {} has only one of aws_access_key_id and "
                              "aws_secret_access_key",
                              profile, file));
    return AwsCredentials{id, sk, setting(*section, "aws_session_token"),
                          fmt::format("profile \"{}\" in {}", profile, file)};
  }
  for (const char* unsupported : {"role_arn", "credential_process", "sso_session", "sso_start_url"}) {
    if (!setting(merged, unsupported).empty())
      throw Error(fmt::format("AWS profile \"{}\" uses {}, which orc does not support yet; "
                              "export credentials (e.g. `aws configure export-credentials "
                              "--format env`) or use web identity, ECS or instance credentials",
                              profile, unsupported));
  }
  if (!sections.found && (env.get_nonempty("AWS_PROFILE") || env.get_nonempty("AWS_DEFAULT_PROFILE")))
    throw Error(fmt::format("AWS profile \"{}\" (from AWS_PROFILE) is not in {} or {}", profile,
                            aws_config_file(env).string(), aws_credentials_file(env).string()));

  // 4. Container endpoint, 5. instance metadata.
  if (auto c = container_credentials(env, send)) return *c;
  if (auto c = instance_metadata_credentials(env, send)) return *c;

  throw Error(fmt::format(
      "no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or a profile "
      "(AWS_PROFILE, now \"{}\") with keys in {} or {}, or AWS_WEB_IDENTITY_TOKEN_FILE + "
      "AWS_ROLE_ARN, or run where the ECS container endpoint or EC2 instance metadata "
      "provides them",
      profile, aws_credentials_file(env).string(), aws_config_file(env).string()));
}

std::string xml_tag_text(std::string_view xml, std::string_view tag) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  auto b = xml.find(open);
  if (b == std::string_view::npos) return {};
  b += open.size();
  auto e = xml.find(close, b);
  if (e == std::string_view::npos) return {};
  std::string raw(xml.substr(b, e - b));
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '&') {
      static const std::pair<const char*, char> entities[] = {
          {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
      bool matched = false;
      for (const auto& [name, ch] : entities) {
        if (raw.compare(i, std::strlen(name), name) == 0) {
          out.push_back(ch);
          i += std::strlen(name) - 1;
          matched = true;
          break;
        }
      }
      if (matched) continue;
    }
    out.push_back(raw[i]);
  }
  return out;
}

}  // namespace orc
