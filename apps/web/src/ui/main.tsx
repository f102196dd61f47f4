import { createRoot } from "react-dom/client";
import { adoptSessionSecret } from "./api.js";
import { App } from "./app.js";
import "./styles.css";

// Before anything renders or fetches: the login redirect's `#s=…` goes into sessionStorage.
adoptSessionSecret();

const root = document.getElementById("root");
if (root) createRoot(root).render(<App />);
