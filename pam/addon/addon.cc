// SPDX-License-Identifier: BSD-3-Clause
// The Node addon: the core's entry points for Node, typed in policy/native.ts (sessionDecide is
// in session.cc, constants in constants.cc). Each function converts its arguments, calls one
// core function and converts the result; no policy logic lives here, so what the tests and the
// CLI see is what the PAM module does.
//
// Bad arguments throw TypeError naming the field; core failures (catalogue, NSS, compile)
// throw Error with the core's message. A policy fault is not an exception: decide() reports it
// in `error`, as the PAM module would log it; only open() throws one, when the policy cannot be
// loaded at all (a handle without a policy has nothing to evaluate).
#include <napi.h>

#include <algorithm>
#include <string>
#include <unistd.h>
#include <vector>

#include "convert.h"

extern "C" {
#include "facts/catalogue.h"
#include "facts/context.h"
#include "policy/policy.h"
#include "common/sha256.h"
#include "common/trust.h"
}

namespace
{

using chos_addon::Collect;
using chos_addon::Flag;
using chos_addon::Lines;
using chos_addon::NoNul;
using chos_addon::String;

// Frees a core struct at scope exit (the core's own free functions).
struct Catalogue {
	chos_catalogue value{};
	~Catalogue() { chos_catalogue_free(&value); }
};
struct Context {
	chos_context value{};
	~Context() { chos_context_free(&value); }
};

Napi::Value Field(const Napi::Object &obj, const char *name)
{
	return obj.Get(name);
}

// malloc'd copy for the core's structs (freed by chos_context_free).
char *Dup(Napi::Env env, const std::string &s, const std::string &what)
{
	char *d = strdup(NoNul(env, s, what).c_str());
	if (!d)
		throw Napi::Error::New(env, "out of memory");
	return d;
}

char *DupOrNull(Napi::Env env, const Napi::Value &v, const std::string &what)
{
	if (v.IsNull() || v.IsUndefined())
		return nullptr;
	return Dup(env, String(env, v, what), what);
}

uint32_t Id(Napi::Env env, const Napi::Value &v, const std::string &what)
{
	if (!v.IsNumber())
		throw Napi::TypeError::New(env, what + " must be a number");
	double d = v.As<Napi::Number>().DoubleValue();
	if (!(d >= 0 && d <= 4294967295.0) || d != (double)(uint32_t)d)
		throw Napi::TypeError::New(env, what + " must be an integer from 0 to 2^32-1");
	return (uint32_t)d;
}

Napi::Object ObjectField(Napi::Env env, const Napi::Object &obj, const char *name,
			 const std::string &what)
{
	Napi::Value v = Field(obj, name);
	if (!v.IsObject())
		throw Napi::TypeError::New(env, what + " must be an object");
	return v.As<Napi::Object>();
}

// context.job (the SDK's SlurmJob), when present, -> a chos_job the context owns.
void ReadJob(Napi::Env env, const Napi::Value &v, chos_context *ctx)
{
	if (v.IsUndefined())
		return;
	if (!v.IsObject())
		throw Napi::TypeError::New(env, "context.job must be an object when present");
	Napi::Object j = v.As<Napi::Object>();
	static const char *const keys[] = { "id",      "step", "partition",
					    "account", "node", "submitHost" };
	Napi::Array names = j.GetPropertyNames();
	for (uint32_t i = 0; i < names.Length(); i++) {
		std::string key = names.Get(i).As<Napi::String>().Utf8Value();
		if (std::find(std::begin(keys), std::end(keys), key) == std::end(keys))
			throw Napi::TypeError::New(env, "context.job: unknown key \"" + key + "\"");
	}
	ctx->job = static_cast<chos_job *>(calloc(1, sizeof(chos_job)));
	if (!ctx->job)
		throw Napi::Error::New(env, "out of memory");
	ctx->job->id = Id(env, Field(j, "id"), "context.job.id");
	ctx->job->step =
		Dup(env, String(env, Field(j, "step"), "context.job.step"), "context.job.step");
	ctx->job->partition = DupOrNull(env, Field(j, "partition"), "context.job.partition");
	ctx->job->account = DupOrNull(env, Field(j, "account"), "context.job.account");
	ctx->job->node =
		Dup(env, String(env, Field(j, "node"), "context.job.node"), "context.job.node");
	ctx->job->submit_host = DupOrNull(env, Field(j, "submitHost"), "context.job.submitHost");
}

// context (a LoginContext without `environments`) -> chos_context.
void ReadContext(Napi::Env env, const Napi::Object &c, chos_context *ctx)
{
	Napi::Object user = ObjectField(env, c, "user", "context.user");
	ctx->user = Dup(env, String(env, Field(user, "name"), "context.user.name"),
			"context.user.name");
	ctx->uid = Id(env, Field(user, "uid"), "context.user.uid");
	ctx->gid = Id(env, Field(user, "gid"), "context.user.gid");
	ctx->home = Dup(env, String(env, Field(user, "home"), "context.user.home"),
			"context.user.home");
	ctx->shell = Dup(env, String(env, Field(user, "shell"), "context.user.shell"),
			 "context.user.shell");
	Napi::Value groups = Field(user, "groups");
	if (!groups.IsArray())
		throw Napi::TypeError::New(env, "context.user.groups must be an array of strings");
	Napi::Array list = groups.As<Napi::Array>();
	ctx->groups = static_cast<char **>(calloc(list.Length() + 1, sizeof(char *)));
	if (!ctx->groups)
		throw Napi::Error::New(env, "out of memory");
	for (uint32_t i = 0; i < list.Length(); i++) {
		std::string what = "context.user.groups[" + std::to_string(i) + "]";
		ctx->groups[i] = Dup(env, String(env, list.Get(i), what), what);
		ctx->group_count = i + 1;
	}
	Napi::Object host = ObjectField(env, c, "host", "context.host");
	ctx->host = Dup(env, String(env, Field(host, "name"), "context.host.name"),
			"context.host.name");
	ctx->service =
		Dup(env, String(env, Field(c, "service"), "context.service"), "context.service");
	ctx->remote_host = DupOrNull(env, Field(c, "remoteHost"), "context.remoteHost");
	ctx->tty = DupOrNull(env, Field(c, "tty"), "context.tty");
	ReadJob(env, Field(c, "job"), ctx);
	Napi::Value req = Field(c, "requested");
	if (req.IsNull() || req.IsUndefined())
		return;
	if (!req.IsObject())
		throw Napi::TypeError::New(env, "context.requested must be an object or null");
	Napi::Object r = req.As<Napi::Object>();
	std::string name = String(env, Field(r, "env"), "context.requested.env");
	if (!chos_name_valid(name.data(), name.size()))
		throw Napi::TypeError::New(env,
					   "context.requested.env is not a valid environment name");
	std::string from = String(env, Field(r, "from"), "context.requested.from");
	chos_request_source source = CHOS_REQUEST_NONE;
	for (auto s : { CHOS_REQUEST_ENV, CHOS_REQUEST_FILE, CHOS_REQUEST_OPTION })
		if (from == chos_request_source_name(s))
			source = s;
	if (source == CHOS_REQUEST_NONE)
		throw Napi::TypeError::New(
			env, "context.requested.from must be \"env\", \"file\" or \"option\"");
	ctx->requested = Dup(env, name, "context.requested.env");
	ctx->requested_from = source;
}

// An optional positive integer option (a limit); 0, the core's default, when absent.
double Limit(Napi::Env env, const Napi::Object &o, const char *name)
{
	Napi::Value v = o.Get(name);
	if (v.IsUndefined())
		return 0;
	double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 0;
	if (!(d >= 1 && d <= 4294967295.0) || d != (double)(uint32_t)d)
		throw Napi::TypeError::New(env, std::string(name) +
							" must be an integer from 1 to 2^32-1");
	return d;
}

void SetPosition(Napi::Env env, Napi::Object &o, const char *file, int line, int column)
{
	if (file[0])
		o.Set("file", Napi::String::New(env, file));
	if (line > 0) {
		o.Set("line", Napi::Number::New(env, line));
		o.Set("column", Napi::Number::New(env, column));
	}
}

// The policy options shared by decide() and open(); the strings live in owner.
struct PolicyOptions {
	std::string bundle, catalogue;
	unsigned trust = 0;
	chos_policy_options opts{};
};

// trust.h flags from trustAnyOwner and trustFileOnly (options may be undefined).
unsigned TrustFlags(const Napi::Value &options)
{
	if (!options.IsObject())
		return 0;
	Napi::Object o = options.As<Napi::Object>();
	return (Flag(o, "trustAnyOwner") ? CHOS_TRUST_ANY_OWNER : 0) |
	       (Flag(o, "trustFileOnly") ? CHOS_TRUST_FILE_ONLY : 0);
}

void ReadPolicyOptions(Napi::Env env, const Napi::Object &o, PolicyOptions *p)
{
	p->bundle = String(env, o.Get("bundle"), "bundle");
	p->catalogue = String(env, o.Get("catalogue"), "catalogue");
	p->trust = TrustFlags(o);
	p->opts.bundle_path = p->bundle.c_str();
	p->opts.trust_flags = p->trust;
	p->opts.memory_bytes = (size_t)Limit(env, o, "memoryBytes");
	p->opts.stack_bytes = (size_t)Limit(env, o, "stackBytes");
	p->opts.timeout_ms = (unsigned)Limit(env, o, "timeoutMs");
	p->opts.prefer_source = Flag(o, "preferSource");
	p->opts.whole_bundle = Flag(o, "wholeBundle");
}

void LoadCatalogue(Napi::Env env, const PolicyOptions &p, Catalogue *cat)
{
	chos_error err{};
	if (chos_catalogue_load(p.catalogue.c_str(), p.trust, &cat->value, &err) < 0)
		throw Napi::Error::New(env, err.message);
}

// A decision as decide() returns it; takes the log lines.
Napi::Object DecisionObject(Napi::Env env, const chos_decision &d, std::vector<std::string> &logs)
{
	Napi::Object res = Napi::Object::New(env);
	bool fault = d.fault != CHOS_FAULT_NONE;
	res.Set("env", d.outcome == CHOS_OUTCOME_ENV && !fault
			       ? Napi::Value(Napi::String::New(env, d.env))
			       : env.Null());
	if (d.outcome == CHOS_OUTCOME_DENY && !fault)
		res.Set("deny", Napi::String::New(env, d.reason));
	res.Set("reason", Napi::String::New(env, fault ? d.fault_message : d.reason));
	char layer[CHOS_NAME_MAX + 8];
	chos_decision_layer(&d, layer, sizeof(layer));
	res.Set("decidedBy", Napi::String::New(env, fault ? "fault" : layer));
	if (!fault)
		SetPosition(env, res, d.file, d.line, d.column);
	res.Set("fromBytecode", Napi::Boolean::New(env, d.from_bytecode));
	res.Set("units", Napi::Number::New(env, d.units));
	if (fault) {
		Napi::Object e = Napi::Object::New(env);
		e.Set("fault", Napi::String::New(env, chos_fault_name(d.fault)));
		e.Set("message", Napi::String::New(env, d.fault_message));
		SetPosition(env, e, d.file, d.line, d.column);
		res.Set("error", e);
	}
	res.Set("logs", Lines(env, logs));
	logs.clear();
	return res;
}

Napi::Value Decide(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!info[0].IsObject())
		throw Napi::TypeError::New(env, "decide(options): options must be an object");
	Napi::Object o = info[0].As<Napi::Object>();
	PolicyOptions p;
	ReadPolicyOptions(env, o, &p);
	if (!o.Get("context").IsObject())
		throw Napi::TypeError::New(env, "context must be an object");

	Catalogue cat;
	LoadCatalogue(env, p, &cat);
	Context ctx;
	ReadContext(env, o.Get("context").As<Napi::Object>(), &ctx.value);

	std::vector<std::string> logs;
	struct chos_log log {
		Collect, &logs, 0
	};
	p.opts.log = &log;
	chos_decision d;
	chos_policy_decide(&p.opts, &cat.value, &ctx.value, &d);
	return DecisionObject(env, d, logs);
}

// open(options): a policy loaded once (chos_policy_open) and its catalogue; decide(context)
// evaluates it warm (chos_policy_evaluate), close() frees it (the finalizer does too). A class,
// so a method called without its object is a TypeError, never a use after free.
class LoadedPolicy : public Napi::ObjectWrap<LoadedPolicy>
{
      public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "LoadedPolicy",
				   { InstanceMethod<&LoadedPolicy::Decide>("decide"),
				     InstanceMethod<&LoadedPolicy::Close>("close") });
	}

	LoadedPolicy(const Napi::CallbackInfo &info) : Napi::ObjectWrap<LoadedPolicy>(info)
	{
		Napi::Env env = info.Env();
		if (!info[0].IsObject())
			throw Napi::TypeError::New(env, "open(options): options must be an object");
		ReadPolicyOptions(env, info[0].As<Napi::Object>(), &options_);
		LoadCatalogue(env, options_, &catalogue_);
		options_.opts.log = &log_;
		chos_decision fault;
		if (chos_policy_open(&options_.opts, &policy_, &fault) < 0)
			throw Napi::Error::New(env, std::string("policy ") +
							    chos_fault_name(fault.fault) + ": " +
							    fault.fault_message);
	}

	~LoadedPolicy() { chos_policy_close(policy_); }

      private:
	Napi::Value Decide(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (!policy_)
			throw Napi::Error::New(env, "decide: the policy is closed");
		if (!info[0].IsObject())
			throw Napi::TypeError::New(env,
						   "decide(context): context must be an object");
		Context ctx;
		ReadContext(env, info[0].As<Napi::Object>(), &ctx.value);
		chos_decision d;
		chos_policy_evaluate(policy_, &catalogue_.value, &ctx.value, &d);
		return DecisionObject(env, d, logs_); // the first call also gets open's lines
	}

	Napi::Value Close(const Napi::CallbackInfo &info)
	{
		chos_policy_close(policy_);
		policy_ = nullptr;
		return info.Env().Undefined();
	}

	PolicyOptions options_;
	Catalogue catalogue_;
	std::vector<std::string> logs_;
	struct chos_log log_ {
		Collect, &logs_, 0
	};
	chos_policy *policy_ = nullptr;
};

Napi::Value Open(const Napi::CallbackInfo &info)
{
	Napi::FunctionReference *ctor = info.Env().GetInstanceData<Napi::FunctionReference>();
	return ctor->New({ info[0] });
}

Napi::Value Compile(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string path = String(env, info[0], "bundlePath");
	chos_error err{};
	size_t bytes = 0;
	if (chos_policy_compile_file(path.c_str(), &bytes, &err) < 0)
		throw Napi::Error::New(env, err.message);
	Napi::Object res = Napi::Object::New(env);
	res.Set("bytes", Napi::Number::New(env, (double)bytes));
	return res;
}

// sha256(data, {portable}): the core's SHA-256 of a Uint8Array (a Buffer), as 64 hex digits,
// from chos_sha256 or chos_sha256_portable.
Napi::Value Sha256(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!info[0].IsTypedArray() ||
	    info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
		throw Napi::TypeError::New(env, "sha256(data): data must be a Uint8Array");
	Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
	bool portable = info[1].IsObject() && Flag(info[1].As<Napi::Object>(), "portable");
	uint8_t digest[CHOS_SHA256_BYTES];
	(portable ? chos_sha256_portable : chos_sha256)(data.Data(), data.ByteLength(), digest);
	char hex[CHOS_SHA256_HEX + 1];
	chos_sha256_hex(digest, hex);
	return Napi::String::New(env, hex);
}

Napi::Value Sha256Accelerated(const Napi::CallbackInfo &info)
{
	return Napi::Boolean::New(info.Env(), chos_sha256_accelerated());
}

Napi::Value ParseCatalogue(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string path = String(env, info[0], "path");
	unsigned trust = TrustFlags(info[1]);
	Catalogue cat;
	chos_error err{};
	if (chos_catalogue_load(path.c_str(), trust, &cat.value, &err) < 0)
		throw Napi::Error::New(env, err.message);
	Napi::Array res = Napi::Array::New(env, cat.value.count);
	for (size_t i = 0; i < cat.value.count; i++) {
		Napi::Object e = Napi::Object::New(env);
		e.Set("name", Napi::String::New(env, cat.value.envs[i].name));
		e.Set("path", Napi::String::New(env, cat.value.envs[i].path));
		if (cat.value.envs[i].image) {
			char hex[CHOS_SHA256_HEX + 1];
			chos_sha256_hex(cat.value.envs[i].sha256, hex);
			e.Set("image",
			      Napi::String::New(
				      env, chos_image_format(cat.value.envs[i].image)->fstype));
			if (cat.value.envs[i].pinned)
				e.Set("sha256", Napi::String::New(env, hex));
		}
		res.Set(i, e);
	}
	return res;
}

// checkTree(path, options?): the trust rule for a tree (chos_open_trusted_dir), as sessions
// apply it before entering one; throws an Error with its message.
Napi::Value CheckTree(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string path = String(env, info[0], "path");
	chos_error err{};
	int fd = chos_open_trusted_dir(path.c_str(), TrustFlags(info[1]), &err);
	if (fd < 0)
		throw Napi::Error::New(env, err.message);
	close(fd);
	return env.Undefined();
}

Napi::Value UserFacts(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string name = String(env, info[0], "name");
	Context ctx;
	chos_error err{};
	if (chos_context_from_nss(name.c_str(), nullptr, &ctx.value, &err) < 0)
		throw Napi::Error::New(env, err.message);
	Napi::Object res = Napi::Object::New(env);
	res.Set("name", Napi::String::New(env, ctx.value.user));
	res.Set("uid", Napi::Number::New(env, ctx.value.uid));
	res.Set("gid", Napi::Number::New(env, ctx.value.gid));
	res.Set("home", Napi::String::New(env, ctx.value.home));
	res.Set("shell", Napi::String::New(env, ctx.value.shell));
	Napi::Array groups = Napi::Array::New(env, ctx.value.group_count);
	for (size_t i = 0; i < ctx.value.group_count; i++)
		groups.Set(i, Napi::String::New(env, ctx.value.groups[i]));
	res.Set("groups", groups);
	return res;
}

Napi::Value HostName(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Context ctx;
	chos_error err{};
	if (chos_context_set_host(&ctx.value, &err) < 0)
		throw Napi::Error::New(env, err.message);
	return Napi::String::New(env, ctx.value.host);
}

Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("decide", Napi::Function::New(env, Decide, "decide"));
	Napi::FunctionReference *ctor =
		new Napi::FunctionReference(Napi::Persistent(LoadedPolicy::Define(env)));
	env.SetInstanceData(ctor); // deleted by Node with the environment
	exports.Set("open", Napi::Function::New(env, Open, "open"));
	exports.Set("compile", Napi::Function::New(env, Compile, "compile"));
	exports.Set("sha256", Napi::Function::New(env, Sha256, "sha256"));
	exports.Set("sha256Accelerated",
		    Napi::Function::New(env, Sha256Accelerated, "sha256Accelerated"));
	exports.Set("parseCatalogue", Napi::Function::New(env, ParseCatalogue, "parseCatalogue"));
	exports.Set("checkTree", Napi::Function::New(env, CheckTree, "checkTree"));
	exports.Set("userFacts", Napi::Function::New(env, UserFacts, "userFacts"));
	exports.Set("hostName", Napi::Function::New(env, HostName, "hostName"));
	exports.Set("sessionDecide",
		    Napi::Function::New(env, chos_addon::SessionDecide, "sessionDecide"));
	exports.Set("constants", Napi::Function::New(env, chos_addon::Constants, "constants"));
	return exports;
}

} // namespace

NODE_API_MODULE(chos_addon, Init)
