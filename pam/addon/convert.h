// SPDX-License-Identifier: BSD-3-Clause
// Conversions every file of the addon shares: JS values in (a TypeError names the field) and
// the core's log lines out.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

namespace chos_addon
{

inline std::string String(Napi::Env env, const Napi::Value &v, const std::string &what)
{
	if (!v.IsString())
		throw Napi::TypeError::New(env, what + " must be a string");
	return v.As<Napi::String>().Utf8Value();
}

// s, refused when it holds a NUL: the core takes C strings, which a NUL would silently cut.
inline const std::string &NoNul(Napi::Env env, const std::string &s, const std::string &what)
{
	if (s.find('\0') != std::string::npos)
		throw Napi::TypeError::New(env, what + " must not contain NUL");
	return s;
}

inline std::string CString(Napi::Env env, const Napi::Value &v, const std::string &what)
{
	return NoNul(env, String(env, v, what), what);
}

inline bool Flag(const Napi::Object &o, const char *name)
{
	Napi::Value v = o.Get(name);
	return v.IsBoolean() && v.As<Napi::Boolean>().Value();
}

// A chos_log sink (log.h) that keeps each line, for the result's `logs`.
inline void Collect(void *userdata, int, const char *line)
{
	static_cast<std::vector<std::string> *>(userdata)->push_back(line);
}

inline Napi::Array Lines(Napi::Env env, const std::vector<std::string> &lines)
{
	Napi::Array out = Napi::Array::New(env, lines.size());
	for (size_t i = 0; i < lines.size(); i++)
		out.Set(i, Napi::String::New(env, lines[i]));
	return out;
}

// The entry points defined outside addon.cc, registered by its Init.
Napi::Value SessionDecide(const Napi::CallbackInfo &info);
Napi::Value Constants(const Napi::CallbackInfo &info);

} // namespace chos_addon
