#pragma once
// Reads a private member of Pistache 0.0.5 without a patched Pistache: an explicit template
// instantiation may name one ([temp.explicit]). An upgrade that renames the member fails to
// compile; one that changes how it is used fails the Pistache* tests (docs/PISTACHE.md).
//
//   struct Tag { using type = int Class::*; friend type member_pointer(Tag); };
//   template struct ExposePrivateMember<Tag, &Class::member>;
//   object.*member_pointer(Tag{})
namespace cdb {

template <typename Tag, typename Tag::type Member>
struct ExposePrivateMember {
    friend typename Tag::type member_pointer(Tag) { return Member; }
};

}  // namespace cdb
