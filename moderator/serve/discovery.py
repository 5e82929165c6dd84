"""The Google API Discovery document of the Perspective API (commentanalyzer v1alpha1), rooted at this server.

Google's client libraries build their methods from this document, so with ``discoveryServiceUrl`` pointed here
``googleapiclient.discovery.build("commentanalyzer", "v1alpha1", ...)`` talks to moderator unchanged. Only
the methods and schema fields this server implements are described.
"""

from __future__ import annotations

from typing import Any

_TEXT_ENTRY = {
    "id": "TextEntry",
    "type": "object",
    "properties": {"text": {"type": "string"}, "type": {"type": "string"}},
}
_CONTEXT = {
    "id": "Context",
    "type": "object",
    "properties": {"entries": {"type": "array", "items": {"$ref": "TextEntry"}}},
}
_SCORE = {
    "id": "Score",
    "type": "object",
    "properties": {"value": {"type": "number", "format": "float"}, "type": {"type": "string"}},
}
_SPAN_SCORE = {
    "id": "SpanScore",
    "type": "object",
    "properties": {
        "begin": {"type": "integer", "format": "int32"},
        "end": {"type": "integer", "format": "int32"},
        "score": {"$ref": "Score"},
    },
}
_ATTRIBUTE_SCORES = {
    "id": "AttributeScores",
    "type": "object",
    "properties": {
        "summaryScore": {"$ref": "Score"},
        "spanScores": {"type": "array", "items": {"$ref": "SpanScore"}},
    },
}
_STRINGS = {"type": "array", "items": {"type": "string"}}
_SCHEMAS: dict[str, Any] = {
    "TextEntry": _TEXT_ENTRY,
    "Context": _CONTEXT,
    "Score": _SCORE,
    "SpanScore": _SPAN_SCORE,
    "AttributeScores": _ATTRIBUTE_SCORES,
    "AttributeParameters": {
        "id": "AttributeParameters",
        "type": "object",
        "properties": {"scoreType": {"type": "string"}, "scoreThreshold": {"type": "number", "format": "float"}},
    },
    "AnalyzeCommentRequest": {
        "id": "AnalyzeCommentRequest",
        "type": "object",
        "properties": {
            "comment": {"$ref": "TextEntry"},
            "context": {"$ref": "Context"},
            "requestedAttributes": {"type": "object", "additionalProperties": {"$ref": "AttributeParameters"}},
            "languages": _STRINGS,
            "doNotStore": {"type": "boolean"},
            "spanAnnotations": {"type": "boolean"},
            "clientToken": {"type": "string"},
            "sessionId": {"type": "string"},
            "communityId": {"type": "string"},
            "articleId": {"type": "string", "description": "moderator's extension: a registered article's id"},
        },
    },
    "AnalyzeCommentResponse": {
        "id": "AnalyzeCommentResponse",
        "type": "object",
        "properties": {
            "attributeScores": {"type": "object", "additionalProperties": {"$ref": "AttributeScores"}},
            "languages": _STRINGS,
            "detectedLanguages": _STRINGS,
            "clientToken": {"type": "string"},
        },
    },
    "SuggestCommentScoreRequest": {
        "id": "SuggestCommentScoreRequest",
        "type": "object",
        "properties": {
            "comment": {"$ref": "TextEntry"},
            "context": {"$ref": "Context"},
            "attributeScores": {"type": "object", "additionalProperties": {"$ref": "AttributeScores"}},
            "languages": _STRINGS,
            "clientToken": {"type": "string"},
            "sessionId": {"type": "string"},
            "communityId": {"type": "string"},
            "articleId": {"type": "string"},
        },
    },
    "SuggestCommentScoreResponse": {
        "id": "SuggestCommentScoreResponse",
        "type": "object",
        "properties": {
            "detectedLanguages": _STRINGS,
            "requestedLanguages": _STRINGS,
            "clientToken": {"type": "string"},
        },
    },
}


def _method(name: str, request: str, response: str, description: str) -> dict[str, Any]:
    return {
        "id": f"commentanalyzer.comments.{name}",
        "path": f"v1alpha1/comments:{name}",
        "flatPath": f"v1alpha1/comments:{name}",
        "httpMethod": "POST",
        "parameters": {},
        "parameterOrder": [],
        "request": {"$ref": request},
        "response": {"$ref": response},
        "description": description,
    }


def discovery_document(root_url: str) -> dict[str, Any]:
    """The restDescription with ``root_url`` (ending in '/') as where every method is called."""
    return {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": "commentanalyzer:v1alpha1",
        "name": "commentanalyzer",
        "version": "v1alpha1",
        "title": "Perspective Comment Analyzer API (served by moderator)",
        "description": "Perspective-compatible comment scoring by moderator's local model.",
        "protocol": "rest",
        "rootUrl": root_url,
        "servicePath": "",
        "baseUrl": root_url,
        "basePath": "/",
        "batchPath": "batch",
        "parameters": {
            "key": {
                "type": "string",
                "location": "query",
                "description": "API key (one of [serve] api_keys / $MODERATOR_API_KEYS).",
            },
            "alt": {"type": "string", "location": "query", "default": "json", "enum": ["json"]},
            "prettyPrint": {"type": "boolean", "location": "query", "default": "true"},
        },
        "schemas": _SCHEMAS,
        "resources": {
            "comments": {
                "methods": {
                    "analyze": _method(
                        "analyze",
                        "AnalyzeCommentRequest",
                        "AnalyzeCommentResponse",
                        "Analyzes the provided text and returns scores for requested attributes.",
                    ),
                    "suggestscore": _method(
                        "suggestscore",
                        "SuggestCommentScoreRequest",
                        "SuggestCommentScoreResponse",
                        "Records a client's verdict on a comment as a decision in moderator's audit log.",
                    ),
                }
            }
        },
    }
