// SPDX-License-Identifier: BSD-3-Clause
// sessionDecide(options): a login's whole decision as pam_chos makes it (chos_session_decide:
// NSS facts, the user's request, catalogue, policy, on_error, the root rule), without applying
// it: no namespace, no mount, no kmod write. Every string in the result is the core's own
// (layer, reason, stage, on_error and fault names, the log line), passed through unchanged.
#include "convert.h"

extern "C" {
#include "session_args.h"
}

namespace chos_addon
{
namespace
{

// An optional string option; "" stands for absent, as the core's NULL does.
std::string Optional(Napi::Env env, const Napi::Object &o, const char *name,
		     const std::string &what)
{
	Napi::Value v = o.Get(name);
	return v.IsNull() || v.IsUndefined() ? std::string() : CString(env, v, what);
}

const char *OrNull(const std::string &s)
{
	return s.empty() ? nullptr : s.c_str();
}

// on_error= by the core's own parser (chos_on_error_parse), so no list of names lives here.
chos_on_error OnError(Napi::Env env, const Napi::Value &v)
{
	chos_on_error out;
	if (chos_on_error_parse(String(env, v, "onError").c_str(), &out) < 0)
		throw Napi::TypeError::New(env,
					   "onError must be \"host\", \"default\" or \"deny\"");
	return out;
}

// `args`: pam_chos's module arguments, parsed by the core's parser (session_args.c) into the
// options the other fields then override; a bad argument throws the core's message.
void ReadArgs(Napi::Env env, const Napi::Object &o, std::vector<std::string> *args,
	      chos_session_options *opts)
{
	Napi::Value v = o.Get("args");
	if (v.IsUndefined())
		return;
	if (!v.IsArray())
		throw Napi::TypeError::New(env, "args must be an array of strings");
	Napi::Array array = v.As<Napi::Array>();
	for (uint32_t i = 0; i < array.Length(); i++)
		args->push_back(CString(env, array.Get(i), "args[]"));
	std::vector<const char *> argv;
	for (const std::string &a : *args)
		argv.push_back(a.c_str());
	chos_session_args parsed;
	chos_error err{};
	if (chos_session_parse_args((int)argv.size(), argv.data(), &parsed, &err) < 0)
		throw Napi::TypeError::New(env, err.message);
	*opts = parsed.session;
}

const char *OutcomeName(chos_outcome outcome)
{
	switch (outcome) {
	case CHOS_OUTCOME_ENV:
		return "env";
	case CHOS_OUTCOME_DENY:
		return "deny";
	case CHOS_OUTCOME_HOST:
		break;
	}
	return "host";
}

// The strings the options point at, owned for the duration of the call.
struct SessionStrings {
	std::string user, service, remote_host, tty, catalogue, policy;
	std::string pam_env, process_env, user_conf;
	std::vector<std::string> args;
};

void ReadSessionOptions(Napi::Env env, const Napi::Object &o, SessionStrings *s,
			chos_session_options *opts)
{
	ReadArgs(env, o, &s->args, opts);
	s->user = CString(env, o.Get("user"), "user");
	s->service = Optional(env, o, "service", "service");
	s->remote_host = Optional(env, o, "remoteHost", "remoteHost");
	s->tty = Optional(env, o, "tty", "tty");
	s->catalogue = Optional(env, o, "catalogue", "catalogue");
	s->policy = Optional(env, o, "policy", "policy");
	Napi::Value request = o.Get("request");
	if (request.IsObject()) {
		Napi::Object r = request.As<Napi::Object>();
		s->pam_env = Optional(env, r, "pamEnv", "request.pamEnv");
		s->process_env = Optional(env, r, "processEnv", "request.processEnv");
		s->user_conf = Optional(env, r, "userConf", "request.userConf");
		if (!s->user_conf.empty() && !chos_request_conf_valid(s->user_conf.c_str()))
			throw Napi::TypeError::New(env, "request.userConf must be a relative name "
							"without . or .. components");
	} else if (!request.IsUndefined()) {
		throw Napi::TypeError::New(env, "request must be an object");
	}
	opts->user = s->user.c_str();
	opts->service = OrNull(s->service);
	opts->remote_host = OrNull(s->remote_host);
	opts->tty = OrNull(s->tty);
	if (!s->catalogue.empty())
		opts->catalogue = s->catalogue.c_str();
	if (!s->policy.empty())
		opts->policy = s->policy.c_str();
	opts->request.pam_env = OrNull(s->pam_env);
	opts->request.process_env = OrNull(s->process_env);
	if (!s->user_conf.empty())
		opts->request.user_conf = s->user_conf.c_str();
	if (!o.Get("onError").IsUndefined())
		opts->on_error = OnError(env, o.Get("onError"));
	if (!o.Get("allowRoot").IsUndefined())
		opts->allow_root = Flag(o, "allowRoot");
}

Napi::Value StringOrNull(Napi::Env env, const char *s)
{
	return s[0] ? Napi::Value(Napi::String::New(env, s)) : env.Null();
}

} // namespace

Napi::Value SessionDecide(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!info[0].IsObject())
		throw Napi::TypeError::New(env,
					   "sessionDecide(options): options must be an object");
	SessionStrings strings;
	chos_session_options opts{};
	ReadSessionOptions(env, info[0].As<Napi::Object>(), &strings, &opts);
	std::vector<std::string> logs;
	struct chos_log log {
		Collect, &logs, 0
	};
	opts.log = &log;
	opts.request.log = &log;

	chos_session_result res;
	chos_session_decide(&opts, &res);
	char line[1024 + CHOS_ERROR_MAX]; // as pam_chos sizes its syslog line
	chos_session_describe(&res, opts.user, line, sizeof(line));

	Napi::Object out = Napi::Object::New(env);
	out.Set("outcome", Napi::String::New(env, OutcomeName(res.outcome)));
	out.Set("env", StringOrNull(env, res.env));
	out.Set("path", StringOrNull(env, res.path));
	out.Set("requested", StringOrNull(env, res.requested));
	out.Set("reason", Napi::String::New(env, res.reason));
	out.Set("layer", Napi::String::New(env, res.layer));
	out.Set("failed", Napi::String::New(env, chos_stage_name(res.failed)));
	if (res.failed != CHOS_STAGE_NONE) {
		out.Set("onError", Napi::String::New(env, chos_on_error_name(res.on_error)));
		out.Set("error", Napi::String::New(env, res.error.message));
	}
	if (res.failed == CHOS_STAGE_POLICY)
		out.Set("fault", Napi::String::New(env, chos_fault_name(res.fault)));
	out.Set("line", Napi::String::New(env, line));
	out.Set("logs", Lines(env, logs));
	out.Set("micros", Napi::Number::New(env, (double)res.micros));
	return out;
}

} // namespace chos_addon
