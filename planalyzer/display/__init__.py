"""Faces for people: the text tree (terminal, str(), assertion messages) and notebook HTML."""
