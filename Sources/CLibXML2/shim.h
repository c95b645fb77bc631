#ifndef CLIBXML2_SHIM_H
#define CLIBXML2_SHIM_H
#include <stdint.h>
#include <string.h>
#include <libxml/xmlversion.h>
/* Debian builds libxml2 with ICU; its <unicode/*.h> clash with Foundation's bundled ICU
   whenever the index store is on (every debug build and `swift test`). Nothing we call
   needs ICU, so hide it. */
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

/* `xmlFree` is a mutable C global; Swift 6 refuses to read it directly. */
static inline void clibxml2_free(void *_Nullable pointer) { xmlFree(pointer); }

/* A policy never needs a DTD; refusing the DOCTYPE before its internal subset is read
   rules out entity expansion attacks (billion laughs) and external entities (XXE). */
static inline void clibxml2_refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *externalID,
    const xmlChar *systemID) {
    (void)name; (void)externalID; (void)systemID;
    xmlStopParser((xmlParserCtxtPtr)ctx);
}

/* Replaces the context's SAX handler (the tree builder) by an empty SAX2 handler that refuses
   any DOCTYPE; the reader then installs its own callbacks and builds no libxml2 tree. */
static inline void clibxml2_reset_sax(xmlParserCtxtPtr _Nonnull ctxt) {
    memset(ctxt->sax, 0, sizeof(xmlSAXHandler));
    ctxt->sax->initialized = XML_SAX2_MAGIC;
    ctxt->sax->internalSubset = clibxml2_refuse_doctype;
    ctxt->sax->externalSubset = clibxml2_refuse_doctype;
}

/* Creates the SAX handler block of a streaming XSD validator without installing it anywhere: the
   reader forwards the events to it itself. `*handler` and `*userData` receive the block and the
   user data its callbacks take; both slots must stay valid until xmlSchemaSAXUnplug, which writes
   NULL back into `*handler`. */
static inline xmlSchemaSAXPlugPtr _Nullable clibxml2_schema_handler(xmlSchemaValidCtxtPtr _Nonnull validator,
    xmlSAXHandlerPtr _Nullable *_Nonnull handler, void *_Nullable *_Nonnull userData) {
    *handler = NULL;
    *userData = NULL;
    return xmlSchemaSAXPlug(validator, handler, userData);
}

/* Gives free heap memory back to the system (glibc keeps it mapped after free). */
#if defined(__GLIBC__)
#include <malloc.h>
static inline void clibxml2_release_free_heap(void) { (void)malloc_trim(0); }
#else
static inline void clibxml2_release_free_heap(void) {}
#endif

/* The line the parser has reached: for a start tag, the line of its `>`. */
static inline long clibxml2_parser_line(const xmlParserCtxt *_Nonnull ctxt) {
    return ctxt->input != NULL ? (long)ctxt->input->line : 0;
}
#endif
