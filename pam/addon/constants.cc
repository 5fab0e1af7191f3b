// SPDX-License-Identifier: BSD-3-Clause
// constants(): the names, default paths and policy limits the C core defines, read from the
// core so that the TypeScript side can check its own lists against them (and use the paths)
// instead of keeping copies that could drift.
#include "convert.h"

extern "C" {
#include "session.h"
#include "common/paths.h"
}

namespace chos_addon
{
namespace
{

// The names of an enum's values first..last, each from the core's name function.
template <typename Enum>
Napi::Array Names(Napi::Env env, int first, int last, const char *(*name)(Enum))
{
	Napi::Array out = Napi::Array::New(env);
	for (int v = first; v <= last; v++)
		out.Set(out.Length(), Napi::String::New(env, name(static_cast<Enum>(v))));
	return out;
}

} // namespace

Napi::Value Constants(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Napi::Object out = Napi::Object::New(env);
	// Each range is its enum's first to last value (policy.h, session.h); FAULT_NONE and
	// STAGE_NONE are left out of faults and stages for being the absence of one.
	out.Set("layers", Names(env, CHOS_LAYER_SITE, CHOS_LAYER_HOST, chos_layer_name));
	out.Set("faults", Names(env, CHOS_FAULT_LOAD, CHOS_FAULT_UNLISTED, chos_fault_name));
	out.Set("onError", Names(env, CHOS_ON_ERROR_HOST, CHOS_ON_ERROR_DENY, chos_on_error_name));
	out.Set("stages", Names(env, CHOS_STAGE_FACTS, CHOS_STAGE_APPLY, chos_stage_name));
	Napi::Object defaults = Napi::Object::New(env);
	defaults.Set("catalogue", Napi::String::New(env, CHOS_CATALOGUE_DEFAULT));
	defaults.Set("policy", Napi::String::New(env, CHOS_POLICY_DEFAULT));
	defaults.Set("root", Napi::String::New(env, CHOS_ROOT_DEFAULT));
	out.Set("defaults", defaults);
	Napi::Object limits = Napi::Object::New(env);
	limits.Set("memoryBytes", Napi::Number::New(env, CHOS_POLICY_MEMORY_DEFAULT));
	limits.Set("stackBytes", Napi::Number::New(env, CHOS_POLICY_STACK_DEFAULT));
	limits.Set("timeoutMs", Napi::Number::New(env, CHOS_POLICY_TIMEOUT_MS_DEFAULT));
	out.Set("limits", limits);
	return out;
}

} // namespace chos_addon
